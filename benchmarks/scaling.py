"""Device scaling: the jitted batch operations with the batch sharded over 1, 2 and 4 devices.

    python -m benchmarks scaling                                   # .benchmarks/scaling.{md,json}
    python -m benchmarks scaling --out benchmarks/results/scaling-cpu

``jaximpl``'s ``multibox_target`` (32 images x 5,120 anchors x 4 ground truths),
``multibox_detection`` (32 x 5,120 anchors x 21 classes) and ``batched_nms_padded`` (32
images x 1,000 boxes x 80 classes, 100 kept at most) run under one ``jax.jit`` with their
batch axis sharded over a one-axis mesh of D devices (``jax.sharding``; anchors replicated),
as ``properties/test_sharding.py`` checks them. JAX fixes its device count when it starts, so
each D runs in a process of its own (``--xla_force_host_platform_device_count=D`` on CPU).
Per operation and D: the compile time (``lower().compile()`` wall time, NMS and detection
with ``jaximpl.COMPILER_OPTIONS`` as in the ratio table), the warm time (median of calls
with ``block_until_ready``, after two untimed calls), both as ratios to 1 device, how the
outputs come back (split along the batch or replicated) and whether they equal 1 device's.
The processes run ``--passes`` times in turn (1, 2, 4, 1, 2, 4, ...); each number is the
median over the passes.

Host devices share the machine's cores: on the project's 2-core machine, 4 host devices
measure correctness and the overhead of partitioning, not a speed-up.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from statistics import median
from time import perf_counter

import numpy as np

from . import workloads as wl
from ._fresh import (
    ROOT,
    command_parser,
    in_fresh_process,
    machine,
    machine_line,
    ms,
    warm_seconds,
    write,
)

DEVICE_COUNTS = (1, 2, 4)
OPS = ("multibox_target", "multibox_detection", "batched_nms_padded")
DEFAULT_OUT = ROOT / ".benchmarks" / "scaling"
# (batch, map side, ground truths or boxes an image) and warm-time budget: full, tiny.
SHAPES = {False: (32, 32, 4, 1000, 1.0), True: (4, 4, 2, 64, 0.05)}
MAX_KEPT = 100


def problem(op: str, tiny: bool):
    """``(label, f, args, batched)``: the function to jit, its NumPy arguments and which of
    them are split along the batch (the others are replicated)."""
    from ._shared import jaximpl_module

    impl = jaximpl_module()
    batch, side, g, n, _ = SHAPES[tiny]
    anchors = side * side * 5
    if op == "multibox_target":
        inp = wl.target_inputs(batch, side, side, g, seed=4)()
        label = f"{batch} x {anchors:,} anchors x {g} ground truths"
        return label, impl.multibox_target, [inp["anchors"], inp["labels"]], [False, True]
    if op == "multibox_detection":
        inp = wl.detection_inputs(batch, side, side)
        args = [inp["cls_probs"], inp["offset_preds"], inp["anchors"]]
        label = f"{batch} x {anchors:,} anchors x {wl.NUM_CLASSES + 1} classes"
        return label, impl.multibox_detection, args, [True, True, False]
    if op == "batched_nms_padded":
        images = [wl.with_classes(wl.nms_uniform(n, seed=10 + i), 11 + i) for i in range(batch)]
        args = [np.stack([p[k] for p in images]) for k in ("boxes", "scores", "idxs")]
        kept = min(MAX_KEPT, n)

        def f(boxes, scores, idxs):
            return impl.batched_nms_padded(boxes, scores, idxs, 0.5, kept)

        label = f"{batch} x {n:,} boxes x {wl.BATCHED_CLASSES} classes, {kept} kept at most"
        return label, f, args, [True, True, True]
    raise ValueError(f"op: unknown operation {op!r}; choose from {', '.join(OPS)}")


def worker(ops: list[str], tiny: bool, save: Path) -> dict:
    """In a process with its device count fixed: each operation compiled and timed with the
    batch sharded over every device; outputs saved to ``save/{op}-{D}.npz``."""
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    from ._shared import _jaximpl_options

    devices = jax.devices()
    mesh = Mesh(np.array(devices), ("batch",))
    out: dict = {"devices": len(devices), "platform": devices[0].platform, "ops": {}}
    for op in ops:
        label, f, args, batched = problem(op, tiny)
        specs = [PartitionSpec("batch") if b else PartitionSpec() for b in batched]
        put = [jax.device_put(a, NamedSharding(mesh, s)) for a, s in zip(args, specs, strict=True)]
        options = None if op == "multibox_target" else _jaximpl_options()
        t0 = perf_counter()
        compiled = jax.jit(f, compiler_options=options).lower(*put).compile()
        compile_s = perf_counter() - t0
        result = jax.tree_util.tree_leaves(compiled(*put))
        warm_s = warm_seconds(
            lambda c=compiled, a=put: jax.block_until_ready(c(*a)), SHAPES[tiny][-1]
        )
        split = [y.sharding.shard_shape(y.shape)[0] * len(devices) == y.shape[0] for y in result]
        np.savez(save / f"{op}-{len(devices)}.npz", *[np.asarray(y) for y in result])
        out["ops"][op] = {
            "workload": label,
            "compile_s": compile_s,
            "warm_s": warm_s,
            "outputs": ["split" if s else "replicated" for s in split],
        }
    return out


def _same(save: Path, op: str, devices: int) -> str:
    """How ``op``'s outputs on ``devices`` compare with 1 device's."""
    one, many = np.load(save / f"{op}-1.npz"), np.load(save / f"{op}-{devices}.npz")
    diffs = []
    for k in one.files:
        a, b = one[k], many[k]
        if not np.array_equal(a, b):
            if a.dtype.kind != "f":
                return "**differs**"
            diffs.append(float(np.max(np.abs(a.astype(np.float64) - b))))
    return "bit-identical" if not diffs else f"max abs difference {max(diffs):.2g}"


def measure(ops: list[str], device_counts: list[int], passes: int, tiny: bool) -> dict:
    runs: dict[int, list[dict]] = {d: [] for d in device_counts}
    with tempfile.TemporaryDirectory() as tmp:
        args = ["--worker", "--save", tmp, "--ops", ",".join(ops)] + (["--tiny"] if tiny else [])
        for p in range(passes):
            for d in device_counts:
                print(f"pass {p + 1}/{passes}: {d} device(s)", flush=True)
                got = in_fresh_process("benchmarks.scaling", args, devices=d)
                if got["devices"] != d:
                    raise RuntimeError(f"asked for {d} devices, JAX had {got['devices']}")
                runs[d].append(got)
        same = {
            (op, d): _same(Path(tmp), op, d) if d != device_counts[0] else "-"
            for op in ops
            for d in device_counts
        }
    rows = []
    for op in ops:
        for d in device_counts:
            got = [r["ops"][op] for r in runs[d]]
            rows.append(
                {
                    "op": op,
                    "workload": got[0]["workload"],
                    "devices": runs[d][0]["devices"],
                    "compile_s": median(g["compile_s"] for g in got),
                    "warm_s": median(g["warm_s"] for g in got),
                    "compile_s_passes": [g["compile_s"] for g in got],
                    "warm_s_passes": [g["warm_s"] for g in got],
                    "outputs": got[0]["outputs"] if d != device_counts[0] else ["(baseline)"],
                    "vs_first": same[op, d],
                }
            )
    return {
        "passes": passes,
        "tiny": tiny,
        "platform": runs[device_counts[0]][0]["platform"],
        "rows": rows,
    }


def markdown(data: dict, m: dict) -> str:
    lines = [
        "# Device scaling: the batch sharded over host devices",
        "",
        f"- Machine: {machine_line(m)}",
        f"- Command: `python -m benchmarks scaling` (passes: {data['passes']}; each "
        f"device count a fresh process; platform {data['platform']}"
        + (", tiny shapes)" if data["tiny"] else ")"),
        "",
        f"**Host devices on a {m['cores']}-core machine measure correctness and overhead, not "
        "speed-up.** `--xla_force_host_platform_device_count` splits one CPU into that many "
        "XLA devices that share its cores; one device already runs XLA's multi-threaded code "
        "on all of them. A ratio below 1 is the price of partitioning (per-device programs, "
        "copies between shards, collectives), not a verdict on real multi-device speed.",
        "",
        "Each operation is jitted with its batch axis split over a one-axis mesh "
        "(`jax.sharding`, anchors replicated). **compile**: `lower().compile()` wall time; "
        "**warm**: median of calls with `block_until_ready`; both the median over the passes. "
        "Ratios are to 1 device: compile time(D) / time(1), and speed-up = warm time(1) / "
        "time(D) (above 1: faster with D devices). **outputs**: each output split along the "
        "batch (each device holds its images) or replicated (every device holds the whole "
        "batch). **vs 1 device**: the outputs compared with 1 device's.",
        "",
        "| operation (workload) | devices | compile | compile vs 1 | warm | speed-up vs 1 | "
        "outputs | vs 1 device |",
        "|---|---|---|---|---|---|---|---|",
    ]
    first = {}
    for r in data["rows"]:
        base = first.setdefault(r["op"], r)
        lines.append(
            f"| `{r['op']}` ({r['workload']}) | {r['devices']} | {r['compile_s']:.2f} s | "
            f"{r['compile_s'] / base['compile_s']:.2f}x | {ms(r['warm_s'])} | "
            f"{base['warm_s'] / r['warm_s']:.2f}x | {', '.join(r['outputs'])} | {r['vs_first']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = command_parser("scaling", __doc__.split("\n")[0], DEFAULT_OUT)
    p.add_argument(
        "--devices",
        default=",".join(map(str, DEVICE_COUNTS)),
        help="device counts, the first the baseline",
    )
    p.add_argument("--ops", default=",".join(OPS), help=f"comma-separated, of {', '.join(OPS)}")
    p.add_argument("--passes", type=int, default=2, help="rounds of the processes (default 2)")
    p.add_argument("--tiny", action="store_true", help="tiny shapes (the tooling test)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--save", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    ops = args.ops.split(",")
    for op in ops:
        if op not in OPS:
            p.error(f"--ops: unknown operation {op!r}; choose from {', '.join(OPS)}")
    if args.worker:
        import json

        print(json.dumps(worker(ops, args.tiny, Path(args.save))))
        return 0
    counts = [int(d) for d in args.devices.split(",")]
    m = machine()  # the load average before the measurements
    data = measure(ops, counts, args.passes, args.tiny)
    data["machine"] = m
    write(Path(args.out).resolve() if args.out else DEFAULT_OUT, markdown(data, m), data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
