"""The speed targets the benchmark report checks (its "Targets" section,
:mod:`benchmarks.report`)."""

from __future__ import annotations

from . import workloads as wl

# The speed targets of the jaximpl issue (#3) and of the detector operations (issue 11):
# (workload, contender, minimum ratio or None when the issue sets no number, wording).
TARGETS = [
    ("nms/uniform-5000", wl.TORCHVISION, 2.0, "NMS >= 2x torchvision, 5,000 uniform boxes"),
    ("nms/uniform-20000", wl.TORCHVISION, 2.0, "NMS >= 2x torchvision, 20,000 uniform boxes"),
    ("nms/clustered-5000", wl.TORCHVISION, 1.0, "NMS no slower than torchvision, 5,000 clustered"),
    ("nms/clustered-1000", wl.TORCHVISION, 1.0, "NMS >= 1x torchvision, 1,000 clustered"),
    (
        "multibox_detection/32x5120x21",
        wl.NAIVE,
        20.0,
        "multibox_detection >= 20x the chapter's loop + host NMS",
    ),
    (
        "multibox_detection/32x5120x21",
        wl.TORCHVISION,
        2.0,
        "multibox_detection >= 2x decode + torchvision.ops.nms per image (issue 13)",
    ),
    ("multibox_target/32x5120x4", wl.NAIVE, 2.0, "multibox_target >= 2x fori_loop port, 32x5120x4"),
    (
        "multibox_target/1x2042040x10",
        wl.NAIVE,
        2.0,
        "multibox_target >= 2x fori_loop port, 2,042,040 anchors x 10",
    ),
    (
        "multibox_target/32x5120x4",
        wl.D2L_JIT,
        5.0,
        "multibox_target >= 5x the chapter's code under one jax.jit, 32x5120x4 (issue 13)",
    ),
    (
        "multibox_target/1x2042040x10",
        wl.D2L_JIT,
        3.0,
        "multibox_target >= 3x the chapter's code under one jax.jit, 2,042,040 x 10 (issue 13)",
    ),
    (
        "nms_stream/100x1000-20000-cold",
        wl.TORCHVISION,
        1.0,
        "NMS on 100 images of 1,000 to 20,000 boxes, end to end with compiles >= 1x torchvision",
    ),
    (
        "nms_stream/100x1000-20000",
        wl.TORCHVISION,
        5.0,
        "NMS on 100 images of 1,000 to 20,000 boxes, warm >= 5x torchvision",
    ),
    *[
        (
            f"{op}/{wl.LOSS_PAIRS}",
            wl.TORCHVISION,
            2.0,
            f"{op} + gradient >= 2x torchvision, 100,000",
        )
        for op in wl.LOSS_OPS
    ],
    (
        "box_iou/5000x5000",
        wl.WRITE_JNP,
        None,
        "box_iou 5000x5000 close to writing its output (fraction of a jitted jnp.zeros)",
    ),
    (
        "box_iou/2042040x10",
        wl.WRITE_JNP,
        None,
        "box_iou 2,042,040x10 close to writing its output (fraction of a jitted jnp.zeros)",
    ),
]

# Class-aware NMS (CONTRACT.md §3.2, issue 11).
TARGETS.extend(
    (f"batched_nms/{kind}-{n}x{wl.BATCHED_CLASSES}", wl.TORCHVISION, 2.0,
     f"batched NMS >= 2x torchvision, {n:,} {kind} boxes x {wl.BATCHED_CLASSES} classes")
    for kind in ("uniform", "clustered") for n in (5000, 20000)
)  # fmt: skip
