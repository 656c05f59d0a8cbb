#!/usr/bin/env python3
"""Runs the README's Export section as written: each format's `npm run cli -- export` line (with
a real run id), then its three loading lines in the format's home runtime (Node with TF.js over
HTTP, Keras 3, onnxruntime), and checks each gives ten probabilities that sum to 1 and agree.

    /tmp/kvenv/bin/python bench/check-readme-export.py --run ID [--checkpoints DIR]

Needs the venv of bench/check-export.py (TensorFlow CPU, Keras 3, onnxruntime).
"""
import argparse
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export_section(readme: str) -> str:
    start = readme.index("### Export")
    return readme[start : readme.index("\n## ", start)]


def blocks(section: str, lang: str) -> list[str]:
    return re.findall(r"```" + lang + r"\n(.*?)```", section, re.S)


def run_cli_line(line: str, run: str, checkpoints: str, cwd: str) -> None:
    args = line.split("npm run cli -- ", 1)[1].split()
    args = [run if a == "ID" else a for a in args]
    # As `npm run cli --` runs it, but from the scratch folder, where the relative --out lands.
    tsx = "file://" + os.path.join(ROOT, "node_modules/tsx/dist/loader.mjs")
    cmd = ["node", "--import", tsx, os.path.join(ROOT, "src-main/cli.ts"), *args, "--checkpoints", checkpoints]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{line!r} failed: {out.stderr.strip()}")
    print("  ", json.loads(out.stdout.strip().splitlines()[-1])["path"])


def check(name: str, probabilities) -> np.ndarray:
    p = np.asarray(probabilities, np.float64).reshape(-1)
    if p.shape != (10,) or abs(p.sum() - 1) > 1e-4 or (p < 0).any():
        sys.exit(f"{name}: not ten probabilities summing to 1: {p}")
    print(f"  {name}: argmax {int(p.argmax())}, p = {np.round(p, 5).tolist()}")
    return p


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--checkpoints", default=os.path.join(ROOT, "checkpoints"))
    args = parser.parse_args()
    checkpoints = os.path.abspath(args.checkpoints)
    section = export_section(open(os.path.join(ROOT, "README.md"), encoding="utf8").read())
    sh, js, py = blocks(section, "sh"), blocks(section, "js"), blocks(section, "python")
    if (len(sh), len(js), len(py)) != (3, 1, 2):
        sys.exit(f"expected 3 sh, 1 js and 2 python blocks in the README's Export section, got {len(sh)}, {len(js)}, {len(py)}")
    work = tempfile.mkdtemp(prefix="readme-export-")
    for block in sh:
        print(block.strip())
        run_cli_line(block.strip(), args.run, checkpoints, work)

    results = {}
    # TF.js: the folder served over HTTP on the port the README names, the lines run in Node.
    port = int(re.search(r"localhost:(\d+)", js[0]).group(1))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=work)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = os.path.join(ROOT, ".readme-export-check.mjs")
    with open(script, "w", encoding="utf8") as f:
        f.write(js[0] + "\nconsole.log(JSON.stringify(Array.from(await probabilities.data())));\n")
    try:
        out = subprocess.run(["node", script], cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        os.remove(script)
        server.shutdown()
    if out.returncode != 0:
        sys.exit(f"the TF.js lines failed: {out.stderr.strip()}")
    results["tfjs"] = check("tfjs", json.loads(out.stdout.strip().splitlines()[-1]))

    os.chdir(work)
    for name, block in zip(["keras", "onnx"], py):
        scope: dict = {}
        exec(block, scope)  # noqa: S102 - the README's own lines, which is the point
        results[name] = check(name, scope["probabilities"])

    worst = max(float(np.abs(results[a] - results["tfjs"]).max()) for a in ("keras", "onnx"))
    print(f"max |Δp| against TF.js: {worst:.2e}")
    if worst > 1e-4:
        sys.exit("the runtimes disagree")
    print("README export lines: OK")


if __name__ == "__main__":
    main()
