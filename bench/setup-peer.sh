#!/usr/bin/env bash
# The benchmark's PyTorch peer in a virtualenv of its own (bench/.venv), which `npm run bench`
# uses when it exists. Benchmarks only: never a dependency of the app. PyTorch 2.13 is the peer
# the README's tables compare against (stronger on convolutions than Debian's python3-torch
# 1.13). Extra arguments go to pip, e.g. --index-url for a local mirror.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install --disable-pip-version-check 'torch==2.13.*' numpy "$@"
.venv/bin/python -c 'import torch; print("PyTorch", torch.__version__, "in bench/.venv")'
