"""The benchmark workloads: fixed-seed input generators, one entry per (operation, size).

Every generator returns NumPy float32 arrays (labels: float32 with the class in
column 0, as the contract's ``(B, G, 5)`` rows); each contender converts them to
its own array type outside the timed region.

Generators (all coordinates normalised to a unit image, corner form):

- ``random_boxes(n)``: box centres uniform in ``[0, 1]^2``, widths and heights
  independently uniform in ``[0.02, 0.3]`` (small to large objects). Used by
  ``box_iou`` (``N x M``, seeds 1 and 2 for the two sides).
- NMS ``uniform``: centres uniform in ``[0, 1]^2``, widths and heights uniform in
  ``[0.02, 0.08]`` (the size of typical detections of small objects; sizes do not
  depend on ``N``, so larger ``N`` means denser boxes), scores uniform in
  ``[0, 1)``. Threshold 0.5. Kept: 918 of 1,000, 3,451 of 5,000, 8,174 of 20,000.
- NMS ``clustered``: 20 objects, centres uniform in ``[0.1, 0.9]^2``, sides uniform
  in ``[0.05, 0.3]``; each box picks an object uniformly, shifts its centre by
  ``N(0, 0.1 * side)`` per axis and scales each side by ``exp(N(0, 0.1))``;
  scores uniform in ``[0, 1)``. Threshold 0.5. Kept: 53, 78 and 96 boxes.
- NMS ``tied``: the ``uniform`` boxes and scores, the scores rounded down to multiples of
  ``1/256`` (an 8-bit quantised detector's: groups of about ``N / 256`` equal scores, whose
  visiting order is by index). Threshold 0.5. 5,000 boxes (3,452 kept) and 40,000 (11,707
  kept: more than ``2^15``, the eager NMS's bucket of 65,536).
- ``multibox_prior``: a ``(1, 3, 561, 728)`` feature map, sizes
  ``(0.75, 0.5, 0.25)``, ratios ``(1, 2, 0.5)``: 5 anchors a pixel, 2,042,040 anchors.
- ``multibox_target``: anchors of ``multibox_prior`` on a 32 x 32 map (5,120
  anchors) with a batch of 32 images of 4 ground truths each, and the 2,042,040
  anchors of the 561 x 728 map with 1 image of 10 ground truths. Ground truths:
  classes uniform in ``0..19``, centres uniform in ``[0.1, 0.9]^2``, sides uniform
  in ``[0.05, 0.5]``; no padding rows.
- ``multibox_detection``: the 5,120 anchors of the 32 x 32 map, a batch of 32,
  ``C = 20`` object classes (Pascal VOC): ``cls_probs`` is the softmax over 21 rows
  of logits ``N(0, 1)`` with +2 added to the background row; ``offset_preds`` are
  ``N(0, 0.5)``. ``nms_threshold = 0.5``, the default ``pos_threshold``.
- the GIoU-family losses (``LOSS_OPS``): 100,000 pairs, forward and backward. Targets
  ``boxes2`` as ``random_boxes`` (sides in ``[0.02, 0.3]``); predictions ``boxes1`` are
  the targets with the centre moved by ``N(0, 0.2 side)`` and each side scaled by
  ``exp(N(0, 0.3))`` (a regression in progress: most pairs overlap, some do not);
  ``reduction="sum"``, ``eps = 1e-7``; the gradient is taken by ``boxes1``.
- ``nms_stream`` (issue 13): NMS on a stream of images, each with its own box count
  (as after a score filter), counts uniform in ``[1000, 20000]`` (seed 30), each image
  an NMS ``uniform`` problem (seed 31 + its position). The whole stream is one timed
  call: every image through the eager ``jaximpl.nms`` (checks, padding to its shape
  bucket, the host trim of the result), or ``torchvision.ops.nms``. The ``-cold``
  workloads time one pass in a process whose JAX caches were just cleared
  (``jax.clear_caches()``): every compile the stream triggers is included, as a user's
  first pass pays it. 100 images in the full run; 20 (warm only) in the gate's row
  (``gate_only``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# Contender names, in table order.
JAXIMPL = "jaximpl"
REFERENCE = "reference"
TORCHVISION = "torchvision"
TORCHVISION_CUDA = "torchvision-cuda"
NAIVE = "naive-d2l"
# The chapter's code, each operation one jax.jit (the whole function; for multibox_target
# its Python loop over the images unrolled into one program): the strongest JAX baseline.
D2L_JIT = "d2l-jit"
CONTENDERS = (JAXIMPL, REFERENCE, TORCHVISION, TORCHVISION_CUDA, NAIVE, D2L_JIT)
# The baselines a speed-up is quoted against (the probes are bounds, not baselines).
BASELINES = (REFERENCE, TORCHVISION, TORCHVISION_CUDA, NAIVE, D2L_JIT)

# Write-bandwidth probes, run on the ``box_iou`` workloads only: each writes an
# ``(N, M)`` float32 array of zeros and nothing else, the lower bound of any ``box_iou``
# that returns a fresh ``(N, M)`` output. Their "ratio" (probe time / jaximpl time) is
# the fraction of that bound ``jaximpl`` reaches (1: as fast as the plain write).
WRITE_NP = "np-empty-fill"  # np.empty((N, M), float32).fill(0): a fresh array each call
WRITE_JNP = "jnp-zeros"  # jitted jnp.zeros((N, M)): a fresh XLA output buffer, like box_iou's
WRITE_REUSED = "np-fill-reused"  # buf.fill(0) on one array allocated once: DRAM/cache only
PROBES = (WRITE_NP, WRITE_JNP, WRITE_REUSED)
# multibox_target's physical limit, run on the multibox_target workloads only: one jitted
# function computing the (B, A, G) IoU of every anchor with every ground truth and, in one
# elementwise pass, outputs of the target's shapes (offsets (B, 4A) and mask (B, 4A) float32,
# classes (B, A) int32) from each anchor's best IoU. No assignment, no coding: a lower bound,
# reported as jaximpl's time / the limit's (how far jaximpl is from it), never a speed-up.
TARGET_LIMIT = "iou-plus-write"
LIMITS = (TARGET_LIMIT,)
ALL_CONTENDERS = CONTENDERS + PROBES + LIMITS

# The GIoU-family losses, timed as loss + gradient (CONTRACT.md §3.5).
LOSS_OPS = ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss")
LOSS_PAIRS = 100_000

SIZES = (0.75, 0.5, 0.25)
RATIOS = (1.0, 2.0, 0.5)
NUM_CLASSES = 20


@dataclass(frozen=True)
class Workload:
    """One input size of one operation.

    ``size`` is the x-axis of the plot: pairs for ``box_iou``, boxes for ``nms``,
    anchors for ``multibox_prior``, ``B * A * G`` for ``multibox_target`` and
    ``B * A`` for ``multibox_detection``. ``series`` separates curves of one
    operation (NMS uniform vs clustered). ``skip`` maps a contender to the reason
    it is not run on this workload; ``short`` marks the workloads of the gate's
    short mode.
    """

    op: str
    name: str
    size: int
    make: Callable[[], dict]
    series: str = ""
    skip: dict[str, str] = field(default_factory=dict)
    # Run only when a floors file names the workload (the gate's smaller variants).
    gate_only: bool = False

    @property
    def id(self) -> str:
        return f"{self.op}/{self.name}"


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def boxes_from_centers(cx, cy, w, h) -> np.ndarray:
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).astype(np.float32)


def random_boxes(n: int, seed: int, lo: float = 0.02, hi: float = 0.3) -> np.ndarray:
    r = _rng(seed)
    cx, cy = r.uniform(0, 1, n), r.uniform(0, 1, n)
    w, h = r.uniform(lo, hi, n), r.uniform(lo, hi, n)
    return boxes_from_centers(cx, cy, w, h)


def nms_uniform(n: int, seed: int = 10) -> dict:
    r = _rng(seed)
    boxes = boxes_from_centers(
        r.uniform(0, 1, n), r.uniform(0, 1, n), r.uniform(0.02, 0.08, n), r.uniform(0.02, 0.08, n)
    )
    return {"boxes": boxes, "scores": r.uniform(0, 1, n).astype(np.float32), "iou_threshold": 0.5}


def nms_clustered(n: int, seed: int = 20, objects: int = 20) -> dict:
    r = _rng(seed)
    ocx, ocy = r.uniform(0.1, 0.9, objects), r.uniform(0.1, 0.9, objects)
    ow, oh = r.uniform(0.05, 0.3, objects), r.uniform(0.05, 0.3, objects)
    k = r.integers(0, objects, n)
    cx = ocx[k] + r.normal(0, 1, n) * 0.1 * ow[k]
    cy = ocy[k] + r.normal(0, 1, n) * 0.1 * oh[k]
    w = ow[k] * np.exp(r.normal(0, 0.1, n))
    h = oh[k] * np.exp(r.normal(0, 0.1, n))
    boxes = boxes_from_centers(cx, cy, w, h)
    return {"boxes": boxes, "scores": r.uniform(0, 1, n).astype(np.float32), "iou_threshold": 0.5}


def nms_tied(n: int, seed: int = 10, levels: int = 256) -> dict:
    """The ``uniform`` problem with its scores rounded down to multiples of ``1 / levels``."""
    inputs = nms_uniform(n, seed)
    scores = np.floor(inputs["scores"] * levels) / levels
    return {**inputs, "scores": scores.astype(np.float32)}


STREAM_COUNTS = (1000, 20000)


def nms_stream(images: int, seed: int = 30) -> dict:
    """``images`` NMS ``uniform`` problems whose box counts are uniform in ``STREAM_COUNTS``."""
    counts = _rng(seed).integers(STREAM_COUNTS[0], STREAM_COUNTS[1] + 1, images)
    problems = [nms_uniform(int(n), seed=seed + 1 + i) for i, n in enumerate(counts)]
    return {
        "images": [(p["boxes"], p["scores"]) for p in problems],
        "iou_threshold": 0.5,
        "counts": [int(n) for n in counts],
    }


def anchors_for(height: int, width: int) -> np.ndarray:
    """``(1, H * W * 5, 4)`` float32 anchors, computed as the contract says (float64, then cast).

    Written out here (not taken from ``reference``) so that the workloads do not
    depend on any implementation under test.
    """
    shapes = [(s, RATIOS[0]) for s in SIZES] + [(SIZES[0], r) for r in RATIOS[1:]]
    cy, cx = np.meshgrid(
        (np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing="ij"
    )
    out = np.empty((height, width, len(shapes), 4), np.float64)
    for k, (s, r) in enumerate(shapes):
        hw, hh = s * math.sqrt(r) * height / width / 2, s / math.sqrt(r) / 2
        out[:, :, k] = np.stack([cx - hw, cy - hh, cx + hw, cy + hh], -1)
    return out.reshape(1, -1, 4).astype(np.float32)


def random_labels(batch: int, g: int, seed: int) -> np.ndarray:
    r = _rng(seed)
    cls = r.integers(0, NUM_CLASSES, (batch, g)).astype(np.float32)
    cx, cy = r.uniform(0.1, 0.9, (batch, g)), r.uniform(0.1, 0.9, (batch, g))
    w, h = r.uniform(0.05, 0.5, (batch, g)), r.uniform(0.05, 0.5, (batch, g))
    return np.concatenate([cls[..., None], boxes_from_centers(cx, cy, w, h)], -1)


def box_iou_inputs(n: int, m: int) -> Callable[[], dict]:
    def make():
        return {"boxes1": random_boxes(n, seed=1), "boxes2": random_boxes(m, seed=2)}

    return make


def anchors_vs_gt() -> dict:
    return {"boxes1": anchors_for(561, 728)[0], "boxes2": random_labels(1, 10, seed=3)[0, :, 1:]}


def prior_inputs() -> dict:
    return {"data_shape": (1, 3, 561, 728), "sizes": SIZES, "ratios": RATIOS}


def target_inputs(batch: int, height: int, width: int, g: int, seed: int) -> Callable[[], dict]:
    def make():
        return {"anchors": anchors_for(height, width), "labels": random_labels(batch, g, seed)}

    return make


def detection_inputs(batch: int = 32, height: int = 32, width: int = 32, seed: int = 5) -> dict:
    anchors = anchors_for(height, width)
    a = anchors.shape[1]
    r = _rng(seed)
    logits = r.normal(0, 1, (batch, NUM_CLASSES + 1, a))
    logits[:, 0] += 2.0
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    offsets = r.normal(0, 0.5, (batch, 4 * a))
    return {
        "cls_probs": probs.astype(np.float32),
        "offset_preds": offsets.astype(np.float32),
        "anchors": anchors,
    }


def loss_inputs(n: int = LOSS_PAIRS, seed: int = 7) -> dict:
    r = _rng(seed)
    targets = random_boxes(n, seed=seed + 1).astype(np.float64)
    cx, cy = (targets[:, 0] + targets[:, 2]) / 2, (targets[:, 1] + targets[:, 3]) / 2
    w, h = targets[:, 2] - targets[:, 0], targets[:, 3] - targets[:, 1]
    preds = boxes_from_centers(
        cx + r.normal(0, 0.2, n) * w,
        cy + r.normal(0, 0.2, n) * h,
        w * np.exp(r.normal(0, 0.3, n)),
        h * np.exp(r.normal(0, 0.3, n)),
    )
    return {"boxes1": preds, "boxes2": targets.astype(np.float32)}


_NOT_IN_TORCHVISION = "torchvision.ops has no such operation"
_NO_TV = {TORCHVISION: _NOT_IN_TORCHVISION, TORCHVISION_CUDA: _NOT_IN_TORCHVISION}
_NO_JIT = {D2L_JIT: "the chapter's code cannot be jitted whole (its NMS is a host loop)"}


def _all() -> list[Workload]:
    w: list[Workload] = []
    for n in (100, 300, 1000, 2000, 5000):
        w.append(Workload("box_iou", f"{n}x{n}", n * n, box_iou_inputs(n, n), series="NxN"))
    w.append(Workload("box_iou", "2042040x10", 2042040 * 10, anchors_vs_gt, series="anchors x 10"))
    for kind, gen in (("uniform", nms_uniform), ("clustered", nms_clustered)):
        for n in (1000, 5000, 20000):
            make = lambda g=gen, n=n: g(n)  # noqa: E731
            w.append(Workload("nms", f"{kind}-{n}", n, make, series=kind, skip=dict(_NO_JIT)))
    for n in (5000, 40000):
        skip = dict(_NO_JIT)
        if n > 20000:
            skip[REFERENCE] = "too slow: about 7 s a call"
            skip[NAIVE] = "too slow: its host NMS loop is the reference's order of time"
        make = lambda n=n: nms_tied(n)  # noqa: E731
        w.append(Workload("nms", f"tied-{n}", n, make, series="tied", skip=skip))
    w.append(Workload("multibox_prior", "561x728", 2042040, prior_inputs, skip=dict(_NO_TV)))
    w.append(
        Workload(
            "multibox_target",
            "32x5120x4",
            32 * 5120 * 4,
            target_inputs(32, 32, 32, 4, seed=4),
            skip=dict(_NO_TV),
        )
    )
    w.append(
        Workload(
            "multibox_target",
            "1x2042040x10",
            2042040 * 10,
            target_inputs(1, 561, 728, 10, seed=6),
            skip=dict(_NO_TV),
        )
    )
    w.append(
        Workload(
            "multibox_detection", "32x5120x21", 32 * 5120, detection_inputs, skip=dict(_NO_JIT)
        )
    )
    stream_skip = {
        **_NO_JIT,
        REFERENCE: "too slow: about 2 minutes a pass (its NMS is 2.1 s on 20,000 boxes)",
        NAIVE: "too slow: its host NMS loop is the reference's order of time",
    }
    lo, hi = STREAM_COUNTS
    # The full run: 100 images, warm and cold. The gate: 20 images, warm (its first pass,
    # the compiles, is outside the timed calls but inside the gate's time).
    for images, cold, gate_only in ((100, False, False), (100, True, False), (20, False, True)):
        w.append(
            Workload(
                "nms_stream",
                f"{images}x{lo}-{hi}" + ("-cold" if cold else ""),
                images,
                (lambda k=images, c=cold: dict(nms_stream(k), cold=c)),
                series="cold" if cold else "warm",
                skip=dict(stream_skip),
                gate_only=gate_only,
            )
        )
    for op in LOSS_OPS:
        no_chapter = {n: "the d2l chapter has no such operation" for n in (NAIVE, D2L_JIT)}
        w.append(Workload(op, str(LOSS_PAIRS), LOSS_PAIRS, loss_inputs, skip=no_chapter))
    return w


WORKLOADS: list[Workload] = _all()
BY_ID: dict[str, Workload] = {w.id: w for w in WORKLOADS}


def by_op(op: str) -> list[Workload]:
    return [w for w in WORKLOADS if w.op == op]


def contenders_of(workload: Workload) -> tuple[str, ...]:
    """The contenders benchmarked on ``workload``: all of them, plus the probes on box_iou
    and the limit on multibox_target."""
    if workload.op == "box_iou":
        return CONTENDERS + PROBES
    return CONTENDERS + LIMITS if workload.op == "multibox_target" else CONTENDERS


# --- class-aware NMS (CONTRACT.md §3.2, issue 11) -------------------------------------------
#
# ``batched_nms``: the NMS workloads above (same boxes and scores, threshold 0.5) with a class
# per box, uniform in ``0..79`` (COCO's 80 classes) and independent of the box (seed + 1):
# about N / 80 boxes a class, so each class is a sparse NMS of its own. jaximpl runs the
# static twin on one image, ``batched_nms_padded(boxes[None], scores[None], idxs[None], 0.5,
# max_output_size=N)``; torchvision ``torchvision.ops.batched_nms`` (its per-class loop at
# these sizes, >= 4,000 boxes on CPU). Kept: reported as ``kept`` in each benchmark's notes.
BATCHED_CLASSES = 80


def with_classes(inputs: dict, seed: int, classes: int = BATCHED_CLASSES) -> dict:
    n = len(inputs["scores"])
    return {**inputs, "idxs": _rng(seed).integers(0, classes, n).astype(np.int32)}


def _batched_nms_workloads() -> list[Workload]:
    out = []
    for kind, gen, seed in (("uniform", nms_uniform, 10), ("clustered", nms_clustered, 20)):
        for n in (5000, 20000):
            out.append(
                Workload(
                    "batched_nms",
                    f"{kind}-{n}x{BATCHED_CLASSES}",
                    n,
                    (lambda g=gen, n=n, seed=seed: with_classes(g(n, seed), seed + 1)),
                    series=kind,
                    skip={NAIVE: "the d2l chapter has no class-aware NMS"},
                )
            )
    return out


WORKLOADS.extend(_batched_nms_workloads())
BY_ID.update({w.id: w for w in WORKLOADS})
