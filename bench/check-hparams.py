#!/usr/bin/env python3
"""Checks MNIST Studio's TensorBoard HParams data with TensorBoard itself.

Not part of `npm test` (it needs Python and the tensorboard wheel). Run it from the repo root:

    python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboard
    /tmp/tbvenv/bin/python bench/check-hparams.py            # writes a sample and checks it
    /tmp/tbvenv/bin/python bench/check-hparams.py --logdir checkpoints   # checks a real folder
    /tmp/tbvenv/bin/python bench/check-hparams.py --reference           # bytes for the unit test

Without --logdir it runs `npx tsx bench/hparams-sample.ts` into a temporary folder (one sweep,
two trial runs, one plain run) and knows what to expect. Three checks:

1. Bytes: every record of every event file is read with TensorBoard's own record reader (CRCs
   checked) and parsed as a tensorflow.Event; the bytes must equal the message re-serialized
   deterministically, so our hand-written encoder is canonical protobuf. Each hparams summary's
   content parses as HParamsPluginData version 0 with the kind its tag names, and its tensor is
   TensorBoard's own NULL_TENSOR.
2. TensorBoard: `tensorboard --logdir <dir>` is started on 127.0.0.1 twice, with the Rust data
   server (--load_fast=true, the default where it is installed) and with the Python loader
   (--load_fast=false), and the HParams dashboard's own requests (/data/plugin/hparams/experiment
   and /session_groups) are made: the experiment must list our hyper-parameters and metrics, and
   each trial must be a session group with its values, status and last validation accuracy. This
   is what proves the layout: the experiment is found in the hidden `.sweeps/<id>/` run.
3. --reference prints hex of messages built with TensorBoard's summary API, which
   tests/engine/sweeps/hparams.test.ts holds as known-good bytes.

Exits non-zero on the first failed check.
"""

import argparse
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.plugins.hparams import summary_v2 as hp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG_KIND = {
    metadata.EXPERIMENT_TAG: "experiment",
    metadata.SESSION_START_INFO_TAG: "session_start_info",
    metadata.SESSION_END_INFO_TAG: "session_end_info",
}
ALL_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


# ---------------------------------------------------------------------------------------------
# 1. Bytes


def records(path):
    reader = pywrap_tensorflow.PyRecordReader_New(path.encode(), 0, b"", None)
    while True:
        try:
            reader.GetNext()
        except Exception as e:  # OutOfRangeError at the end; DataLossError on a bad CRC
            if type(e).__name__ == "OutOfRangeError":
                return
            fail("%s: %s" % (path, e))
        yield reader.record()


def check_bytes(logdir):
    # os.walk, as TensorBoard walks a local logdir: glob's "**" would skip the dot-folders.
    files = sorted(
        os.path.join(d, f) for d, _, names in os.walk(logdir) for f in names if "tfevents" in f
    )
    check(files, "no event files under %s" % logdir)
    counts = {kind: 0 for kind in TAG_KIND.values()}
    for path in files:
        for raw in records(path):
            event = event_pb2.Event.FromString(raw)
            check(
                event.SerializeToString(deterministic=True) == raw,
                "%s: an Event is not canonical protobuf" % path,
            )
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != metadata.PLUGIN_NAME:
                    continue
                kind = TAG_KIND.get(value.tag)
                check(kind is not None, "%s: unexpected hparams tag %r" % (path, value.tag))
                content = value.metadata.plugin_data.content
                data = plugin_data_pb2.HParamsPluginData.FromString(content)
                check(data.version == metadata.PLUGIN_DATA_VERSION, "%s: version" % path)
                check(
                    data.WhichOneof("data") == kind,
                    "%s: %s holds %s" % (path, value.tag, data.WhichOneof("data")),
                )
                check(
                    data.SerializeToString(deterministic=True) == content,
                    "%s: HParamsPluginData is not canonical protobuf" % path,
                )
                check(value.tensor == metadata.NULL_TENSOR, "%s: tensor is not NULL_TENSOR" % path)
                # TensorBoard's own parser, as the plugin calls it.
                getattr(metadata, "parse_%s_plugin_data" % kind)(content)
                counts[kind] += 1
    print("bytes: %d event files, canonical; hparams summaries: %s" % (len(files), counts))
    return counts


# ---------------------------------------------------------------------------------------------
# 2. TensorBoard's HParams backend, through its HTTP API


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, route, body):
    request = urllib.request.Request(
        "http://127.0.0.1:%d/data/plugin/hparams/%s" % (port, route),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-TensorBoard-Feature-Flags": "{}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def query_tensorboard(logdir, load_fast, want_groups):
    port = free_port()
    tensorboard = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    server = subprocess.Popen(
        [
            tensorboard,
            "--logdir",
            logdir,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--load_fast",
            load_fast,
            "--reload_interval",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Loading is asynchronous: ask until every session group is there, for at most 60 s.
        deadline = time.time() + 60
        experiment = groups = None
        while time.time() < deadline:
            if server.poll() is not None:
                fail("tensorboard exited: %s" % server.stderr.read().decode()[-2000:])
            try:
                experiment = post(port, "experiment", {"experimentName": ""})
                groups = post(
                    port,
                    "session_groups",
                    {
                        "experimentName": "",
                        "allowedStatuses": ALL_STATUSES,
                        "startIndex": 0,
                        "sliceSize": 1000,
                    },
                )
                found = groups.get("sessionGroups", [])
                if (
                    experiment.get("hparamInfos")
                    and len(found) >= want_groups
                    and all(g.get("metricValues") for g in found)
                ):
                    return experiment, groups
            except OSError:
                pass
            time.sleep(1)
        return experiment, groups
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def check_tensorboard(logdir, expected, load_fast):
    want = len(expected["trials"]) if expected else 1
    experiment, groups = query_tensorboard(logdir, load_fast, want)
    label = "tensorboard --load_fast=%s" % load_fast
    check(
        experiment and experiment.get("hparamInfos"),
        "%s: no experiment (got %r)" % (label, experiment),
    )
    infos = {h["name"]: h for h in experiment["hparamInfos"]}
    metrics = [
        (m["name"].get("group", ""), m["name"]["tag"]) for m in experiment.get("metricInfos", [])
    ]
    print("%s: experiment %r" % (label, experiment.get("description", "")))
    for name, info in infos.items():
        domain = info.get("domainInterval") or info.get("domainDiscrete")
        print(
            "  hparam %-13s %-18s %s"
            % (name, info.get("type", "DATA_TYPE_UNSET"), json.dumps(domain))
        )
    print("  metrics %s" % ", ".join("%s/%s" % m for m in metrics))
    sessions = groups.get("sessionGroups", []) if groups else []
    for g in sessions:
        values = {
            "%s/%s" % (m["name"].get("group", ""), m["name"]["tag"]): round(m["value"], 4)
            for m in g.get("metricValues", [])
        }
        print(
            "  group %s: sessions %s, status %s"
            % (
                g["name"],
                [s["name"] for s in g["sessions"]],
                [s.get("status") for s in g["sessions"]],
            )
        )
        print("    hparams %s" % json.dumps(g["hparams"], sort_keys=True))
        print("    metrics %s" % json.dumps(values, sort_keys=True))
    if not expected:
        return

    space = expected["space"]
    check(
        set(infos) == set(space),
        "%s: hparams %s, expected %s" % (label, sorted(infos), sorted(space)),
    )
    for name, dim in space.items():
        info = infos[name]
        if dim["kind"] == "choice":
            check(
                info.get("domainDiscrete") == dim["values"],
                "%s: %s domain %r" % (label, name, info),
            )
        else:
            interval = info.get("domainInterval", {})
            lo, hi = dim["min"], dim.get("last", dim["max"])
            check(
                abs(interval.get("minValue", 0) - lo) < 1e-12
                and abs(interval.get("maxValue", 0) - hi) < 1e-12,
                "%s: %s interval %r, expected %s..%s" % (label, name, interval, lo, hi),
            )
    for m in [
        ("validation", "epoch_accuracy"),
        ("validation", "epoch_loss"),
        ("train", "epoch_accuracy"),
        ("train", "epoch_loss"),
    ]:
        check(m in metrics, "%s: metric %s/%s missing" % (label, m[0], m[1]))

    by_group = {g["name"]: g for g in sessions}
    check(
        len(sessions) == len(expected["trials"]),
        "%s: %d session groups, expected %d" % (label, len(sessions), len(expected["trials"])),
    )
    for i, trial in enumerate(expected["trials"]):
        group = by_group.get("%s/trial-%d" % (expected["sweepId"], i + 1))
        check(group is not None, "%s: no group for trial %d" % (label, i + 1))
        check(
            [s["name"] for s in group["sessions"]] == [trial["runId"]],
            "%s: trial %d sessions %r" % (label, i + 1, group["sessions"]),
        )
        check(
            group["hparams"] == trial["point"],
            "%s: trial %d hparams %r != %r" % (label, i + 1, group["hparams"], trial["point"]),
        )
        want_status = "STATUS_FAILURE" if trial["status"] == "failed" else "STATUS_SUCCESS"
        check(
            group["sessions"][0].get("status") == want_status,
            "%s: trial %d status" % (label, i + 1),
        )
        accuracy = [
            m
            for m in group["metricValues"]
            if m["name"] == {"group": "validation", "tag": "epoch_accuracy"}
        ]
        check(
            accuracy and abs(accuracy[0]["value"] - trial["lastValAccuracy"]) < 1e-6,
            "%s: trial %d validation accuracy %r" % (label, i + 1, accuracy),
        )
    print("%s: OK" % label)


# ---------------------------------------------------------------------------------------------
# 3. Known-good bytes for the unit test


def reference():
    """Messages as TensorBoard's Python summary API builds them, for hparams.test.ts."""
    experiment = hp.hparams_config_pb(
        hparams=[
            hp.HParam(
                "learningRate", hp.RealInterval(1e-4, 1e-2), description="log-uniform 0.0001..0.01"
            ),
            hp.HParam("dropout", hp.RealInterval(0.0, 0.5)),
            hp.HParam("batchSize", hp.Discrete([32, 64])),
            hp.HParam("schedule", hp.Discrete(["decay", "one-cycle"])),
            hp.HParam("augment", hp.Discrete([False, True])),
        ],
        metrics=[
            hp.Metric(
                "epoch_accuracy",
                group="validation",
                display_name="validation accuracy",
                dataset_type=hp.Metric.VALIDATION,
            ),
            hp.Metric("epoch_loss", group="train", dataset_type=hp.Metric.TRAINING),
        ],
        time_created_secs=1764504000.5,
    )
    start = hp.hparams_pb(
        {
            "learningRate": 0.001,
            "batchSize": 64,
            "schedule": "decay",
            "augment": False,
            "dropout": 0.0,
        },
        trial_id="sweep/trial-1",
        start_time_secs=1764504010.25,
    )
    # summary.py's session_end_pb needs TensorFlow; this is the same message through the same
    # summary builder summary_v2 uses.
    end = hp._summary_pb(
        metadata.SESSION_END_INFO_TAG,
        plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(
                status=api_pb2.STATUS_FAILURE, end_time_secs=1764504020.75
            )
        ),
    )
    for name, summary in [("experiment", experiment), ("sessionStart", start), ("sessionEnd", end)]:
        value = summary.value[0]
        # Sessions' maps in deterministic (sorted-key) order, as our encoder writes them.
        content = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
        canonical = summary_pb2.Summary()
        canonical.CopyFrom(summary)
        canonical.value[0].metadata.plugin_data.content = content.SerializeToString(
            deterministic=True
        )
        print("%s content %s" % (name, content.SerializeToString(deterministic=True).hex()))
        print("%s summary %s" % (name, canonical.SerializeToString(deterministic=True).hex()))


# ---------------------------------------------------------------------------------------------


def write_sample():
    out = tempfile.mkdtemp(prefix="mnist-hparams-")
    line = (
        subprocess.run(
            ["npx", "tsx", "bench/hparams-sample.ts", out],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    sample = json.loads(line)
    print("sample: %s (sweep %s)" % (sample["root"], sample["sweepId"]))
    journal = json.load(open(os.path.join(out, ".sweeps", sample["sweepId"], "journal.json")))
    space = {}
    for name, dim in journal["spec"]["space"].items():
        if dim["kind"] == "int":
            dim = dict(
                dim, last=dim["min"] + (dim["max"] - dim["min"]) // dim["step"] * dim["step"]
            )
        space[name] = dim
    for trial in sample["trials"]:
        validation = glob.glob(os.path.join(out, trial["runId"], "validation", "*tfevents*"))
        last = None
        for raw in records(validation[0]):
            for value in event_pb2.Event.FromString(raw).summary.value:
                if value.tag == "epoch_accuracy":
                    last = value.simple_value
        trial["lastValAccuracy"] = last
    return out, dict(sample, space=space)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logdir", help="check this folder instead of a fresh sample")
    parser.add_argument("--reference", action="store_true", help="print known-good bytes and exit")
    args = parser.parse_args()
    if args.reference:
        reference()
        return
    if args.logdir:
        logdir, expected = os.path.abspath(args.logdir), None
    else:
        logdir, expected = write_sample()
    counts = check_bytes(logdir)
    if expected:
        want = {
            "experiment": 1,
            "session_start_info": len(expected["trials"]),
            "session_end_info": len(expected["trials"]),
        }
        check(counts == want, "hparams summaries %s, expected %s" % (counts, want))
    for load_fast in ["true", "false"]:
        check_tensorboard(logdir, expected, load_fast)
    print("ALL OK")


if __name__ == "__main__":
    main()
