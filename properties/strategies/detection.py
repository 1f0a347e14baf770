"""Detection: class probabilities with ties, offsets, ``multibox_detection`` problems.

Shapes ``(B, C+1, A)`` come from ``BATCH_CLASSES`` x ``DETECTION_ANCHORS`` (12 shapes: a
jitted detection compiles slowly), so a jitted implementation compiles a bounded number of
times. Built on :mod:`properties.strategies.lattice` and :mod:`properties.strategies.nms`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from ._once import once, sampled
from .lattice import PROB_STEP, boxes, dyadic_thresholds
from .nms import any_thresholds

__all__ = [
    "BATCH_CLASSES",
    "DETECTION_ANCHORS",
    "DetectionProblem",
    "POS_THRESHOLDS",
    "class_probs",
    "detection_offsets",
    "detection_problems",
]

# The d2l default pos_threshold, and values on the probability lattice (so some confidences
# are exactly at the threshold: ``conf < pos_threshold`` is strict).
POS_THRESHOLDS = (0.009999999, 0.0, 1 / 64, 0.25, 0.5, 1.0)
# Detection shapes (B, C, A): (batch, object classes) pairs times anchor counts, 12 in all
# (a jitted detection compiles for each; batch 3 and batch 1 share C = 3 for batch-vs-image).
BATCH_CLASSES = ((1, 1), (1, 3), (3, 3))
DETECTION_ANCHORS = (0, 1, 5, 21)


class DetectionProblem(NamedTuple):
    """Arguments of ``multibox_detection`` and whether every decision is exact."""

    cls_probs: np.ndarray  # (B, C+1, A) float32
    offset_preds: np.ndarray  # (B, 4A) float32
    anchors: np.ndarray  # (1, A, 4) float32
    nms_threshold: float
    pos_threshold: float
    exact: bool

    def args(self) -> dict:
        """The five arguments of ``multibox_detection``, by name, in call order."""
        return {k: getattr(self, k) for k in self._fields if k != "exact"}


# A probability level k of k / 64: often 0, 1/64, 1/2 or 1.
_LEVEL = st.one_of(st.sampled_from([0, 1, 32, 64]), st.integers(0, 64))


@st.composite
def class_probs(draw, batch: int, classes: int, anchors: int) -> np.ndarray:
    """``(batch, classes + 1, anchors)`` float32 probabilities on the lattice k / 64.

    Drawn from a few levels, so equal maxima across classes (argmax ties) and equal
    confidences across anchors (NMS ties) are common; 0 (below the default
    ``pos_threshold``) and 1 are among the levels often. Rows need not sum to 1.
    """
    shape = (batch, classes + 1, anchors)
    size = int(np.prod(shape))
    if size == 0:
        return np.zeros(shape, np.float32)
    count = draw(st.integers(1, 5))
    levels = draw(st.lists(_LEVEL, min_size=count, max_size=count, unique=True))
    picks = draw(st.lists(sampled(*levels), min_size=size, max_size=size))
    return (np.asarray(picks, np.float32) * np.float32(PROB_STEP)).reshape(shape)


@st.composite
def detection_offsets(draw, batch: int, anchors: int, kind: str | None = None) -> np.ndarray:
    """``(batch, 4 * anchors)`` float32 offsets.

    ``kind``: ``"zero"`` (decoded boxes are the anchors), ``"lattice"`` (centre offsets
    ``1.25 k`` for ``|k| <= 4``, size offsets 0: a lattice anchor moves by ``k w / 8``, exact
    in float32 whatever the order of operations, so decisions stay exact) or ``"float"``
    (centre offsets in [-3, 3], size offsets in [-2, 2]); drawn when None.
    """
    if kind is None:
        kind = draw(sampled("zero", "lattice", "float"))
    shape = (batch, anchors, 4)
    size = batch * anchors
    if kind == "zero" or size == 0:
        return np.zeros((batch, 4 * anchors), np.float32)
    out = np.zeros(shape, np.float32)
    if kind == "lattice":
        k = draw(st.lists(st.integers(-4, 4), min_size=2 * size, max_size=2 * size))
        out[..., :2] = (np.asarray(k, np.float32) * np.float32(1.25)).reshape(batch, anchors, 2)
    else:
        xy = st.floats(-3, 3, width=32)
        wh = st.floats(-2, 2, width=32)
        out[..., :2] = np.asarray(
            draw(st.lists(xy, min_size=2 * size, max_size=2 * size)), np.float32
        ).reshape(batch, anchors, 2)
        out[..., 2:] = np.asarray(
            draw(st.lists(wh, min_size=2 * size, max_size=2 * size)), np.float32
        ).reshape(batch, anchors, 2)
    return out.reshape(batch, 4 * anchors)


_BATCH_CLASSES = st.sampled_from(BATCH_CLASSES)
_DETECTION_ANCHORS = st.sampled_from(DETECTION_ANCHORS)
_POS_THRESHOLDS = st.sampled_from(POS_THRESHOLDS)


@st.composite
def detection_problems(
    draw,
    exact: bool = True,
    num_anchors: st.SearchStrategy[int] | None = None,
    batch_classes: st.SearchStrategy[tuple[int, int]] | None = None,
    pos_threshold: st.SearchStrategy[float] | None = None,
    nms_threshold: st.SearchStrategy[float] | None = None,
) -> DetectionProblem:
    """A ``multibox_detection`` problem: lattice anchors, lattice probabilities with ties,
    shapes ``(B, C+1, A)`` from ``BATCH_CLASSES`` x ``DETECTION_ANCHORS``.

    ``exact``: zero or lattice-friendly offsets and a dyadic NMS threshold, so every decision
    is exact; otherwise float offsets and any threshold. ``num_anchors``, ``batch_classes``
    (``(B, C)`` pairs), ``pos_threshold`` and ``nms_threshold`` override the defaults.
    """
    b, c = draw(_BATCH_CLASSES if batch_classes is None else batch_classes)
    n = _DETECTION_ANCHORS if num_anchors is None else num_anchors
    anchors = draw(once(boxes, n, lattice=True))
    a = len(anchors)
    probs = draw(once(class_probs, b, c, a))
    kind = draw(sampled("zero", "lattice")) if exact else "float"
    offs = draw(once(detection_offsets, b, a, kind))
    if nms_threshold is None:
        nms_threshold = dyadic_thresholds() if exact else any_thresholds()
    if pos_threshold is None:
        pos_threshold = _POS_THRESHOLDS
    return DetectionProblem(
        cls_probs=probs,
        offset_preds=offs,
        anchors=anchors[None],
        nms_threshold=float(draw(nms_threshold)),
        pos_threshold=float(draw(pos_threshold)),
        exact=exact,
    )
