"""Class-aware NMS: ``batched_nms`` and its static-shape twin (CONTRACT.md §3.2).

Boxes of different classes never suppress each other. The reference runs the chapter's NMS
(§2.8) once per class and merges the kept boxes by score: the plain loop, with no
coordinate-offset trick (which breaks on negative coordinates, large offsets and float16,
PITFALLS.md "Beyond the chapter").
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _validate as v
from .nms import nms


def check_classes(x, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Class labels of ``shape``: integers, or finite whole floats, as int64."""
    arr = np.asarray(x)
    if arr.dtype == np.dtype(bool) or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{name}: must hold integer class labels, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        v.check_finite(arr, name, "class labels")
        fractional = arr != np.round(arr)
        if fractional.any():
            where = tuple(int(i) for i in np.argwhere(fractional)[0])
            raise ValueError(f"{name}: class labels must be whole numbers, got {arr[where]}")
    return arr.astype(np.int64)


def _merge_by_score(kept: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``kept`` indices by descending score, equal scores by ascending index."""
    kept = np.sort(kept)
    order = sorted(range(len(kept)), key=lambda k: -scores[kept[k]])  # stable: ties by index
    return kept[order].astype(np.int64)


def batched_nms(boxes, scores, idxs, iou_threshold: float) -> np.ndarray:
    """Class-aware NMS: ``(N, 4), (N,), (N,), threshold -> (K,)`` int64 kept indices.

    ``idxs[i]`` is box ``i``'s class (any integer, negative ones included). Each class is
    suppressed on its own exactly as ``nms`` does it (CONTRACT.md §2.8: descending score,
    ties by index, suppressed at IoU ``> iou_threshold``); boxes of different classes never
    suppress each other. The result lists every kept box by descending score, equal scores
    by ascending index, whatever their classes. ``N = 0`` gives an empty result.

    Raises ``ValueError`` for invalid boxes, non-finite scores, class labels that are not
    whole numbers, mismatched lengths and a threshold outside ``[0, 1]``.
    """
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    classes = check_classes(idxs, "idxs", (len(b),))
    t = v.threshold(iou_threshold, "iou_threshold")
    kept = []
    for c in np.unique(classes):
        members = np.flatnonzero(classes == c)  # ascending: NMS's ties stay in index order
        kept.append(members[nms(b[members], s[members], t)])
    if not kept:
        return np.zeros(0, dtype=np.int64)
    return _merge_by_score(np.concatenate(kept), s)


def _output_size(n) -> int:
    if isinstance(n, numbers.Integral) and not isinstance(n, bool | np.bool_) and n >= 0:
        return int(n)
    raise ValueError(f"max_output_size: must be a non-negative int, got {n!r}")


def batched_nms_padded(
    boxes,
    scores,
    idxs,
    iou_threshold: float,
    max_output_size: int,
    score_threshold: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The static-shape twin of :func:`batched_nms`, for a batch of images.

    ``(B, N, 4), (B, N), (B, N)`` -> ``(indices (B, max_output_size) int64, counts (B,)
    int64)``. For image ``b``: the candidates are its boxes with
    ``scores[b, i] > score_threshold`` (strictly; every box when ``score_threshold`` is
    None); ``indices[b]`` holds the first ``max_output_size`` entries of ``batched_nms`` of
    the candidates (as indices into the image's ``N`` boxes), then -1 up to
    ``max_output_size`` (never a valid index), and ``counts[b]`` how many are valid.
    Boxes that are not candidates neither are kept nor suppress anything.

    Raises ``ValueError`` as :func:`batched_nms` does, for shapes that are not
    ``(B, N, 4), (B, N), (B, N)``, a ``max_output_size`` that is not an int ``>= 0`` and a
    non-finite ``score_threshold``.
    """
    b = v.as_array(boxes, "boxes", ndim=3, last=4)
    v.check_corner_boxes(b, "boxes")
    s = v.as_array(scores, "scores", ndim=2)
    if s.shape != b.shape[:2]:
        raise ValueError(f"scores: expected shape {b.shape[:2]}, got {s.shape}")
    v.check_finite(s, "scores")
    classes = check_classes(idxs, "idxs", b.shape[:2])
    t = v.threshold(iou_threshold, "iou_threshold")
    size = _output_size(max_output_size)
    if score_threshold is not None:
        st = v.as_array(score_threshold, "score_threshold")
        if st.ndim != 0 or not np.isfinite(st):
            raise ValueError(f"score_threshold: must be a finite number or None, got {st}")
    indices = np.full((b.shape[0], size), -1, dtype=np.int64)
    counts = np.zeros(b.shape[0], dtype=np.int64)
    for image in range(b.shape[0]):
        candidates = np.arange(b.shape[1])
        if score_threshold is not None:
            candidates = np.flatnonzero(s[image] > float(st))
        kept = candidates[
            batched_nms(b[image, candidates], s[image, candidates], classes[image, candidates], t)
        ][:size]
        indices[image, : len(kept)] = kept
        counts[image] = len(kept)
    return indices, counts
