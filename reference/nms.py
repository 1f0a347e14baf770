"""Non-maximum suppression and the detection head's post-processing.

:func:`greedy_nms` is the check-free core of ``nms``, which ``multibox_detection``
runs once per image on the decoded boxes; it also runs other libraries' NMS
(:mod:`reference.rules`), which the public functions never ask for.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .boxes import iou
from .coding import decode
from .rules import CONTRACT, Rules


def greedy_nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, rules: Rules = CONTRACT
) -> np.ndarray:
    """Check-free core of :func:`nms`: ``(N, 4), (N,), threshold -> (K,)``.

    ``rules`` are the contract's unless a caller asks for another library's (CONTRACT.md §7):
    suppression at ``IoU >= t``, equal scores visited highest index first or in an arbitrary
    order, and the IoU's own rules.
    """
    # Visit by descending score; equal scores by ascending index. Python's sort
    # is stable, so sorting the indices by -score keeps equal scores in index order.
    if rules.ties == "lowest":
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
    elif rules.ties == "highest":
        order = sorted(reversed(range(len(scores))), key=lambda i: -scores[i])
    else:  # "any" leaves the order open: here a fixed shuffle, neither lowest nor highest
        shuffled = np.random.default_rng(len(scores)).permutation(len(scores))
        order = sorted(shuffled.tolist(), key=lambda i: -scores[i])
    keep: list[int] = []
    suppressed = np.zeros(len(scores), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        # Suppress every box whose IoU with this kept box is strictly greater
        # than the threshold. A box with IoU exactly at the threshold survives,
        # and so does one that merely touches (IoU 0) at threshold 0. A NaN IoU
        # (another library's empty union) is neither, so it suppresses nothing.
        overlap = iou(boxes[i : i + 1], boxes, rules)
        if rules.suppress_at_threshold:
            suppressed |= overlap[0] >= iou_threshold
        else:
            suppressed |= overlap[0] > iou_threshold
    return np.asarray(keep, dtype=np.int64)


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Non-maximum suppression: ``(N, 4), (N,), threshold -> (K,)`` kept indices.

    Boxes are visited by descending score, equal scores by ascending index; a
    box is kept unless its IoU with an already kept box is ``> iou_threshold``
    (strictly). The result lists the kept indices in the order they were kept.
    Degenerate boxes have IoU 0 with everything, so they are always kept.
    """
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    t = v.threshold(iou_threshold, "iou_threshold")
    return greedy_nms(b, s, t)


def multibox_detection(
    cls_probs,
    offset_preds,
    anchors,
    nms_threshold: float = 0.5,
    pos_threshold: float = 0.009999999,
) -> np.ndarray:
    """Detections for a batch: ``(B, C+1, A), (B, 4A), (1, A, 4) -> (B, A, 6)``.

    Each output row is ``(class_id, conf, x1, y1, x2, y2)``. Per image:

    1. ``conf`` is the largest probability over the classes ``1..C`` (row 0 is
       the background) and ``class_id`` its index minus 1 (the first on ties);
    2. the boxes are ``offset_inverse(anchors, offsets)``;
    3. ``keep = nms(boxes, conf, nms_threshold)``;
    4. the rows are the kept anchors in selection order, then all other anchors
       by ascending index with ``class_id = -1``;
    5. every row with ``conf < pos_threshold`` gets ``class_id = -1`` and
       ``conf = 1 - conf``.
    """
    probs = v.as_array(cls_probs, "cls_probs", ndim=3)
    v.check_finite(probs, "cls_probs")
    if probs.shape[1] < 2:
        raise ValueError(
            f"cls_probs: needs a background row and at least one class, got shape {probs.shape}"
        )
    anc = v.as_array(anchors, "anchors", ndim=3, last=4)
    if anc.shape[0] != 1:
        raise ValueError(f"anchors: expected shape (1, A, 4), got {anc.shape}")
    anc = anc[0]
    v.check_corner_boxes(anc, "anchors")
    offs = v.as_array(offset_preds, "offset_preds", ndim=2)
    v.check_finite(offs, "offset_preds")
    batch, num_anchors = probs.shape[0], probs.shape[2]
    if anc.shape[0] != num_anchors:
        raise ValueError(
            f"anchors: {anc.shape[0]} anchors do not match cls_probs ({num_anchors} anchors)"
        )
    if offs.shape != (batch, 4 * num_anchors):
        raise ValueError(
            f"offset_preds: expected shape {(batch, 4 * num_anchors)}, got {offs.shape}"
        )
    nms_t = v.threshold(nms_threshold, "nms_threshold")
    pos_t = v.threshold(pos_threshold, "pos_threshold")

    out = np.empty((batch, num_anchors, 6))
    for b in range(batch):
        conf = probs[b, 1:].max(axis=0)
        class_id = probs[b, 1:].argmax(axis=0).astype(np.float64)
        with np.errstate(over="ignore"):
            boxes = decode(anc, offs[b].reshape(-1, 4))
        if not np.isfinite(boxes).all():
            raise ValueError("offset_preds: too large, the decoded boxes overflow")
        keep = greedy_nms(boxes, conf, nms_t)
        kept = np.zeros(num_anchors, dtype=bool)
        kept[keep] = True
        rest = np.flatnonzero(~kept)  # ascending anchor index
        class_id[rest] = -1
        order = np.concatenate([keep, rest])
        rows = np.concatenate([class_id[order, None], conf[order, None], boxes[order]], axis=1)
        below = rows[:, 1] < pos_t
        rows[below, 0] = -1
        rows[below, 1] = 1 - rows[below, 1]
        out[b] = rows
    return out
