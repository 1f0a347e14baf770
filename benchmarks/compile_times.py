"""Compile time per shape bucket: the first call of each eager entry point in a fresh process.

    python -m benchmarks compile                                   # .benchmarks/compile.{md,json}
    python -m benchmarks compile --out benchmarks/results/compile-cpu

The eager ``nms``, ``multibox_detection`` and ``batched_nms(_padded)`` pad their variable axis
to shape buckets (CONTRACT.md §4, ``jaximpl/_buckets.py``): one program per bucket, compiled on
the first call that opens it. This command measures what that first call costs, bucket by
bucket, each in a process of its own (JAX's caches empty; one small jitted call first, so that
starting the backend is not counted): the first call's wall time, host arrays in and the
result back on the host as a user calls it; of it, the time JAX reports through
``jax.monitoring`` for tracing (``jaxpr_trace_duration``), lowering to MLIR
(``jaxpr_to_mlir_module_duration``) and XLA's compile (``backend_compile_duration``), and how
many programs were compiled; then the warm time of the same call (median, after two untimed
calls).

Entry points and sizes: ``nms`` on every bucket from 64 to 32,768 boxes (NMS ``uniform``
problems of exactly the bucket's size, threshold 0.5); ``multibox_detection`` on 8 images of
1,280, 5,120 and 20,480 anchors (16, 32 and 64 square maps, 21 classes; each a bucket of its
own); ``batched_nms_padded`` on one image of 1,000, 5,000 and 20,000 boxes with 80 classes,
100 kept at most (padded to 1,024, 8,192 and 32,768 boxes); ``box_iou`` on 1,000 x 1,000,
5,000 x 5,000 and 2,042,040 x 10, not bucketed, and after each a first call on one column
fewer (a shape never seen: a compile of its own).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from time import perf_counter

import numpy as np

from . import _fresh
from . import workloads as wl

DEFAULT_OUT = _fresh.ROOT / ".benchmarks" / "compile"
NMS_SIZES = tuple(2**k for k in range(6, 16))  # 64 .. 32,768: every bucket
DETECTION_SIDES = (16, 32, 64)  # 1,280, 5,120, 20,480 anchors (5 a pixel)
DETECTION_BATCH = 8
BATCHED_SIZES = (1000, 5000, 20000)
BATCHED_KEPT = 100
IOU_SHAPES = ((1000, 1000), (5000, 5000), (2042040, 10))
BACKEND = "/jax/core/compile/backend_compile_duration"
TINY = {"nms": (64,), "box_iou": ((100, 100),)}
EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace_s",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s",
    BACKEND: "backend_s",
}


def entries(tiny: bool) -> list[tuple[str, str]]:
    """``(op, size)`` of every measurement, sizes as the worker reads them."""
    if tiny:
        return [("nms", str(n)) for n in TINY["nms"]] + [
            ("box_iou", f"{n}x{m}") for n, m in TINY["box_iou"]
        ]
    return (
        [("nms", str(n)) for n in NMS_SIZES]
        + [("multibox_detection", str(s)) for s in DETECTION_SIDES]
        + [("batched_nms_padded", str(n)) for n in BATCHED_SIZES]
        + [("box_iou", f"{n}x{m}") for n, m in IOU_SHAPES]
    )


def _call(op: str, size: str):
    """``(label, call)``: the eager call on host (NumPy) inputs, its result back on the host;
    for ``box_iou`` also the call on one column fewer."""
    import jax

    from ._shared import jaximpl_module

    impl = jaximpl_module()
    if op == "nms":
        inp = wl.nms_uniform(int(size))
        return f"{int(size):,} boxes", lambda: np.asarray(
            impl.nms(inp["boxes"], inp["scores"], 0.5)
        )
    if op == "multibox_detection":
        side = int(size)
        inp = wl.detection_inputs(DETECTION_BATCH, side, side)
        args = (inp["cls_probs"], inp["offset_preds"], inp["anchors"])
        label = f"{DETECTION_BATCH} x {side * side * 5:,} anchors x {wl.NUM_CLASSES + 1} classes"
        return label, lambda: np.asarray(impl.multibox_detection(*args))
    if op == "batched_nms_padded":
        n = int(size)
        inp = wl.with_classes(wl.nms_uniform(n), 11)
        args = [inp[k][None] for k in ("boxes", "scores", "idxs")]
        label = f"1 x {n:,} boxes x {wl.BATCHED_CLASSES} classes, {BATCHED_KEPT} kept at most"
        return label, lambda: jax.device_get(impl.batched_nms_padded(*args, 0.5, BATCHED_KEPT))
    if op == "box_iou":
        n, m = (int(x) for x in size.split("x"))
        b1, b2 = wl.random_boxes(n, seed=1), wl.random_boxes(m, seed=2)
        return f"{n:,} x {m:,}", lambda cols=m: np.asarray(impl.box_iou(b1, b2[:cols]))
    raise ValueError(f"op: unknown operation {op!r}")


def _first(call, events: dict) -> dict:
    """One call, timed, with the compile events it caused."""
    events.clear()
    t0 = perf_counter()
    call()
    first = perf_counter() - t0
    got = {v: sum(secs for _, secs in events.get(k, [])) for k, v in EVENTS.items()}
    compiled = sorted(events.get(BACKEND, []), key=lambda e: -e[1])
    return {"first_s": first, **got, "programs": [[name, secs] for name, secs in compiled]}


def worker(op: str, size: str) -> dict:
    import jax
    import jax.numpy as jnp

    jax.block_until_ready(jax.jit(lambda x: x + 1)(jnp.zeros(4)))  # start the backend
    events: dict = defaultdict(list)
    jax.monitoring.register_event_duration_secs_listener(
        lambda name, secs, fun_name="?", **_: (
            events[name].append((fun_name, secs)) if name in EVENTS else None
        )
    )
    label, call = _call(op, size)
    out = {"op": op, "size": size, "workload": label, **_first(call, events)}
    out["warm_s"] = _fresh.warm_seconds(call, 0.5, min_calls=3)
    if op == "box_iou":  # one column fewer: a shape this process has not compiled
        m = int(size.split("x")[1])
        out["next_shape"] = _first(lambda: call(m - 1), events)
    return out


def programs(compiled: list) -> str:
    """How many programs were compiled, the slowest two named with their XLA seconds."""
    named = ", ".join(
        f"`{name.removeprefix('jit(')[:-1]}` {secs:.2f} s" for name, secs in compiled[:2]
    )
    return f"{len(compiled)}: {named}" + (", ..." if len(compiled) > 2 else "")


def markdown(rows: list[dict], m: dict) -> str:
    lines = [
        "# Compile time per shape bucket",
        "",
        f"- Machine: {_fresh.machine_line(m)}",
        "- Command: `python -m benchmarks compile` (each row a fresh process)",
        "",
        "**first call**: the eager call's wall time in a fresh process (host arrays in, the "
        "result on the host), compiles included; **trace / lower / XLA**: the seconds of it "
        "that `jax.monitoring` reports for tracing to a jaxpr, lowering to MLIR and XLA's "
        "compile (`backend_compile_duration`), summed over the **programs** compiled (the "
        "entry point's own and small helpers; the two slowest named, with their XLA "
        "seconds); **warm**: the median of the same call afterwards; **first / warm**: what "
        "the first call costs in warm calls.",
        "",
        "| operation | input | first call | trace | lower | XLA | programs | warm | first / warm |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['op']}` | {r['workload']} | {r['first_s']:.2f} s | {r['trace_s']:.2f} s | "
            f"{r['lower_s']:.2f} s | {r['backend_s']:.2f} s | {programs(r['programs'])} | "
            f"{_fresh.ms(r['warm_s'])} | {r['first_s'] / r['warm_s']:,.0f} |"
        )
    iou = [r for r in rows if r["op"] == "box_iou"]
    if iou:
        lines += [
            "",
            "`box_iou` is not bucketed: its result is the `(N, M)` matrix itself, so a bucketed "
            "`box_iou` would compute a padded matrix and then cut it to `(N, M)`, and that cut "
            "is a program per `(N, M)` again (a slice's output shape is static) plus a copy of "
            "the whole matrix, for an operation bound by writing that matrix. Each new shape "
            "compiles once (its argument checks run on the device, one program per input length, "
            "only for inputs of more than 2^16 values; smaller ones are checked on the host); "
            "what that costs, measured as the first call on one column fewer right after the "
            "rows above, in the same process:",
            "",
            "| after | next shape | its first call | of it, XLA | programs |",
            "|---|---|---|---|---|",
        ]
        lines += [_next_shape_row(r) for r in iou]
    return "\n".join(lines) + "\n"


def _next_shape_row(r: dict) -> str:
    nxt, (n, m) = r["next_shape"], (int(x) for x in r["size"].split("x"))
    return (
        f"| {r['workload']} | {n:,} x {m - 1:,} | {nxt['first_s']:.2f} s | "
        f"{nxt['backend_s']:.2f} s | {programs(nxt['programs'])} |"
    )


def main(argv: list[str] | None = None) -> int:
    p = _fresh.command_parser("compile", __doc__.split("\n")[0], DEFAULT_OUT)
    p.add_argument("--ops", help="comma-separated operations (default: all)")
    p.add_argument("--tiny", action="store_true", help="two small rows (the tooling test)")
    p.add_argument("--worker", nargs=2, metavar=("OP", "SIZE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    todo = entries(args.tiny)
    if args.ops:
        todo = [e for e in todo if e[0] in args.ops.split(",")]
    m = _fresh.machine()  # the load average before the measurements
    rows = []
    for op, size in todo:
        print(f"{op} {size}", flush=True)
        rows.append(_fresh.in_fresh_process("benchmarks.compile_times", ["--worker", op, size]))
    out = Path(args.out).resolve() if args.out else DEFAULT_OUT
    _fresh.write(out, markdown(rows, m), {"machine": m, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
