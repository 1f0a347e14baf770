"""Non-maximum suppression and the detection post-processing (CONTRACT.md §2.8, §2.9).

All NMS forms run the tiled kernel of :mod:`jaximpl._tiled` on boxes sorted by
:mod:`jaximpl._order`; the entry points compile with the XLA:CPU options of
:mod:`jaximpl._compile` at the top level.

Rules inside ``jit`` (no value checks there): NaN scores are visited last
(after ``-inf``), in index order; ``-0.0`` and ``0.0`` are equal scores. A box
with a NaN coordinate has IoU 0 with everything (see :func:`box_iou`), so it
never suppresses and is never suppressed: it is kept. Inverted boxes
(``x2 < x1``) go through the IoU formula as is.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v
from ._buckets import bucket, device_of, pad_rows, to_device
from ._compile import CpuJit
from ._core import decode, max_argmax
from ._tiled import nms_sorted, prepare


def _nms_core(
    boxes: jax.Array,
    scores: jax.Array,
    iou_threshold: jax.Array,
    max_output_size: int,
) -> tuple[jax.Array, jax.Array]:
    """Static-shape NMS, no checks: ``(N, 4), (N,), ()`` -> ``(max_output_size,)`` int32, count."""
    n = boxes.shape[0]
    if max_output_size == 0:
        return jnp.zeros((0,), jnp.int32), jnp.int32(0)
    if n == 0:
        return jnp.full((max_output_size,), -1, jnp.int32), jnp.int32(0)
    sorted_boxes, order, tile = prepare(boxes[None], scores[None], None)
    idx, count = nms_sorted(sorted_boxes, order, iou_threshold, max_output_size, tile)
    return idx[0], count[0]


_nms_jit = CpuJit(_nms_core, static_argnames="max_output_size")


def _nms_bucket_core(
    boxes: jax.Array,
    scores: jax.Array,
    iou_threshold: jax.Array,
    n_valid: jax.Array,
    stop: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """:func:`_nms_core` of the first ``n_valid`` boxes of a shape bucket ``(Nb, 4), (Nb,)``,
    at most ``stop`` kept: ``(Nb,)`` int32 indices (-1 past the count), count. The padding
    is visited last, never kept, and the loop stops at the last real box or the ``stop``-th
    kept one. ``n_valid`` and ``stop`` are traced: one program per bucket."""
    sorted_boxes, order, tile = prepare(boxes[None], scores[None], None, n_valid)
    idx, count = nms_sorted(
        sorted_boxes, order, iou_threshold, boxes.shape[0], tile, n_valid=n_valid, stop=stop
    )
    return idx[0], count[0]


_nms_bucket_jit = CpuJit(_nms_bucket_core)


@partial(jax.jit, static_argnames="size")
def _fit(idx: jax.Array, size: int) -> jax.Array:
    """``idx`` cut or padded with -1 to ``size`` entries (a small program per size)."""
    if size <= idx.shape[0]:
        return idx[:size]
    return jnp.pad(idx, (0, size - idx.shape[0]), constant_values=-1)


def _keep_mask_core(boxes: jax.Array, scores: jax.Array, iou_threshold: jax.Array) -> jax.Array:
    n = boxes.shape[0]
    idx, _ = _nms_core(boxes, scores, iou_threshold, n)
    return jnp.zeros(n, bool).at[jnp.where(idx >= 0, idx, n)].set(True, mode="drop")


_keep_mask_jit = CpuJit(_keep_mask_core)


def _check_nms_args(boxes: Any, scores: Any, iou_threshold: Any, host: bool = False):
    """The checked ``(N, 4), (N,), ()`` arguments of the NMS forms, of one dtype; ``host``:
    checked on the host, boxes and scores as NumPy arrays (nothing compiles)."""
    b = v.boxes(boxes, "boxes", host)
    s = v.host_array(scores, "scores", ndim=1) if host else v.as_array(scores, "scores", ndim=1)
    (v.raise_non_finite if host else v.check_finite)(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    dtype = jnp.promote_types(b.dtype, s.dtype)
    t = v.threshold(iou_threshold, "iou_threshold", dtype, host=host)
    return b.astype(dtype), s.astype(dtype), t


def _concrete(*args: Any) -> bool:
    return all(v.is_concrete(x) for x in jax.tree_util.tree_leaves(args))


def _bucketed_nms_args(boxes: Any, scores: Any, iou_threshold: Any):
    """The checks of :func:`_check_nms_args` on the host, then boxes and scores padded to
    their shape bucket (:mod:`jaximpl._buckets`): ``(Nb, 4), (Nb,), (), N``. Nothing here
    compiles for a new ``N``. The padded scores are the lowest real score (visited after
    every real box); the arrays go back to the input's device, and stay NumPy arrays (as
    the threshold and ``N``) when it is the default one: the jitted call moves them with
    its arguments, cheaper than a conversion dispatched for each."""
    b, s, t = _check_nms_args(boxes, scores, iou_threshold, host=True)
    n = b.shape[0]
    size = bucket(n)
    device = device_of(boxes, scores)
    padded_b = pad_rows(b, size)
    padded_s = pad_rows(s, size, s.min() if n else 0)
    return to_device(padded_b, device), to_device(padded_s, device), t, np.int32(n)


def nms_padded(
    boxes: Any, scores: Any, iou_threshold: float, max_output_size: int
) -> tuple[jax.Array, jax.Array]:
    """Static-shape NMS: ``(N, 4), (N,)`` -> ``(indices (max_output_size,) int32, count () int32)``.

    Boxes are visited by descending score, equal scores by ascending index
    (they need not be sorted); a box is kept unless its IoU with an already
    kept box is ``> iou_threshold`` (strictly, at every threshold). ``indices``
    lists the first ``max_output_size`` kept boxes in selection order, padded
    with -1; ``count`` is how many are valid. It equals the first
    ``max_output_size`` entries of :func:`nms`.

    ``max_output_size`` must be a static non-negative int: use
    ``jax.jit(nms_padded, static_argnames="max_output_size")``; ``iou_threshold``
    may be traced. Tiled algorithm (see :mod:`jaximpl._tiled`): time
    O(N log N + N min(K, max_output_size) + N T c) for ``K`` kept boxes, tile
    ``T`` (64 on CPU) and chains of length ``c``; memory O(N + T^2); it stops
    once ``max_output_size`` boxes are kept.

    Called eagerly, the boxes are padded to the next power of two (at least 64;
    :mod:`jaximpl._buckets`) and ``max_output_size`` is a value of the program, so a
    stream of box counts and output sizes runs one NMS program per power of two
    (the same as :func:`nms`'s), not one per count or size; only the final cut to
    ``max_output_size`` entries is a small program of its own.

    Raises ``ValueError`` (when concrete) for invalid boxes, non-finite scores,
    mismatched lengths, a threshold outside ``[0, 1]`` or a bad
    ``max_output_size``. Jitted, no value check runs: NaN scores are visited
    last, boxes with NaN coordinates are always kept (IoU 0 with everything).
    """
    k = v.output_size(max_output_size)
    if _concrete(boxes, scores, iou_threshold):  # eager: one program per shape bucket
        b, s, t, n = _bucketed_nms_args(boxes, scores, iou_threshold)
        idx, count = _nms_bucket_jit(b, s, t, n, np.int32(min(k, b.shape[0])))
        return _fit(idx, size=k), count
    b, s, t = _check_nms_args(boxes, scores, iou_threshold)
    return _nms_jit(b, s, t, max_output_size=k)


def nms_keep_mask(boxes: Any, scores: Any, iou_threshold: float) -> jax.Array:
    """Static-shape NMS as a keep mask: ``(N, 4), (N,) -> (N,)`` bool, True = kept.

    Same decisions, complexity and jitted behaviour as :func:`nms_padded` with
    ``max_output_size = N`` (the selection order is lost). Jittable as it
    stands; raises ``ValueError`` like :func:`nms_padded` when concrete.

    Called eagerly, it runs :func:`nms`'s program of the shape bucket and marks
    the kept indices on the host: no compile of its own for a new ``N``.
    """
    if not _concrete(boxes, scores, iou_threshold):
        b, s, t = _check_nms_args(boxes, scores, iou_threshold)
        return _keep_mask_jit(b, s, t)
    kept, n = _eager_kept(boxes, scores, iou_threshold)
    mask = np.zeros(n, bool)
    mask[kept] = True
    return jax.device_put(mask, device_of(boxes, scores))


def _eager_kept(boxes: Any, scores: Any, iou_threshold: Any) -> tuple[np.ndarray, int]:
    """The eager NMS in the program of the shape bucket: the kept indices as a host array
    (trimmed there: a slice on the device would compile once per kept count), and ``N``."""
    b, s, t, n = _bucketed_nms_args(boxes, scores, iou_threshold)
    idx, count = jax.device_get(_nms_bucket_jit(b, s, t, n, np.int32(b.shape[0])))
    return idx[: int(count)], int(n)


def nms(boxes: Any, scores: Any, iou_threshold: float) -> jax.Array:
    """Non-maximum suppression, eager: ``(N, 4), (N,), threshold -> (K,)`` int32 kept indices.

    The d2l form: the kept indices in the order they were kept (descending
    score, ties to the lower index; suppression strictly ``IoU > iou_threshold``).
    It runs :func:`nms_padded` with ``max_output_size = N`` and trims the
    padding, so the result has a data-dependent length and this function cannot
    be jitted (use :func:`nms_padded` or :func:`nms_keep_mask` there).
    Complexity as :func:`nms_padded`. Raises ``ValueError`` for invalid input.

    Shape buckets (:mod:`jaximpl._buckets`): the checks run on the host and the
    boxes are padded there to the next power of two (at least 64), so a stream
    of images with their own box counts compiles at most once per power of two
    (the padding is never kept; the loop stops at the last real box).
    """
    if not _concrete(boxes, scores, iou_threshold):
        _check_nms_args(boxes, scores, iou_threshold)  # shape and dtype errors first
        raise TypeError(
            "nms returns a variable number of indices and cannot be traced; "
            "use nms_padded(..., max_output_size=N) or nms_keep_mask inside jit/vmap"
        )
    kept, _ = _eager_kept(boxes, scores, iou_threshold)
    return jax.device_put(kept, device_of(boxes, scores))


def nms_padded_jit(
    boxes: jax.Array, scores: jax.Array, iou_threshold: jax.Array, max_output_size: int
) -> tuple[jax.Array, jax.Array]:
    """:func:`nms_padded` without any checks: runs a jitted core (``max_output_size`` static)."""
    return _nms_jit(boxes, scores, iou_threshold, max_output_size=max_output_size)


def _detection_core(
    cls_probs: jax.Array,
    offset_preds: jax.Array,
    anchors: jax.Array,
    nms_threshold: jax.Array,
    pos_threshold: jax.Array,
    n_valid: jax.Array | None = None,
) -> jax.Array:
    """``(B, C+1, A), (B, 4A), (A, 4), (), () -> (B, A, 6)``, no checks.

    With ``n_valid`` (a shape bucket), only the first ``n_valid`` anchors are real: the
    others are never kept and come last, so rows ``[:, :n_valid]`` are the result of the
    real anchors alone.
    """
    batch, _, num_anchors = cls_probs.shape
    dtype = jnp.promote_types(cls_probs.dtype, jnp.promote_types(offset_preds.dtype, anchors.dtype))
    probs = cls_probs[:, 1:, :].astype(dtype)
    # Class max and first argmax; NaN probabilities are treated as -inf here.
    probs = jnp.where(jnp.isnan(probs), -jnp.inf, probs)
    conf, class_id = max_argmax(probs, 1)  # (B, A)
    boxes = decode(
        anchors[None].astype(dtype), offset_preds.reshape(batch, num_anchors, 4).astype(dtype)
    )
    if batch == 0 or num_anchors == 0:
        return jnp.zeros((batch, num_anchors, 6), dtype)
    sorted_boxes, order, tile = prepare(boxes, conf, None, n_valid)  # the whole batch at once

    # All images advance together (see nms_sorted): (B, A), (B,).
    keep_idx, count = nms_sorted(
        sorted_boxes, order, nms_threshold, num_anchors, tile, n_valid=n_valid
    )
    # Destination row of every anchor: kept ones at their selection position,
    # the others after them in ascending anchor order.
    rows = jnp.arange(batch)[:, None]
    arange = jnp.arange(num_anchors, dtype=jnp.int32)[None, :]
    pos = jnp.full((batch, num_anchors), -1, jnp.int32)
    pos = pos.at[rows, jnp.where(keep_idx >= 0, keep_idx, num_anchors)].set(
        jnp.broadcast_to(arange, keep_idx.shape), mode="drop"
    )
    kept = pos >= 0
    rest = count[:, None] + jnp.cumsum(~kept, axis=1, dtype=jnp.int32) - 1
    dest = jnp.where(kept, pos, rest)
    order = (
        jnp.zeros((batch, num_anchors), jnp.int32)
        .at[rows, dest]
        .set(jnp.broadcast_to(arange, dest.shape), unique_indices=True)
    )
    class_id = jnp.where(kept, class_id, -1)
    cid = jnp.take_along_axis(class_id, order, axis=1)
    cf = jnp.take_along_axis(conf, order, axis=1)
    bx = jnp.take_along_axis(boxes, order[..., None], axis=1)
    below = cf < pos_threshold
    cid = jnp.where(below, -1, cid)
    cf = jnp.where(below, 1 - cf, cf)
    return jnp.concatenate([cid[..., None].astype(dtype), cf[..., None], bx], axis=-1)


_detection_jit = CpuJit(_detection_core)


def _detection_args(cls_probs, offset_preds, anchors, nms_threshold, pos_threshold, host=False):
    """The checked arguments of :func:`multibox_detection`: ``(B, C+1, A), (B, 4A), (A, 4)``
    and the two thresholds; ``host``: checked on the host, the arrays as NumPy arrays."""
    array = v.host_array if host else v.as_array
    finite = v.raise_non_finite if host else v.check_finite
    probs = array(cls_probs, "cls_probs", ndim=3)
    finite(probs, "cls_probs")
    if probs.shape[1] < 2:
        raise ValueError(
            "cls_probs: needs a background row and at least one class, "
            f"got shape {tuple(probs.shape)}"
        )
    anc = v.anchors_1a4(anchors, "anchors", host)
    offs = array(offset_preds, "offset_preds", ndim=2)
    finite(offs, "offset_preds")
    batch, num_anchors = probs.shape[0], probs.shape[2]
    if anc.shape[0] != num_anchors:
        raise ValueError(
            f"anchors: {anc.shape[0]} anchors do not match cls_probs ({num_anchors} anchors)"
        )
    if offs.shape != (batch, 4 * num_anchors):
        raise ValueError(
            f"offset_preds: expected shape {(batch, 4 * num_anchors)}, got {tuple(offs.shape)}"
        )
    dtype = jnp.promote_types(probs.dtype, jnp.promote_types(offs.dtype, anc.dtype))
    nms_t = v.threshold(nms_threshold, "nms_threshold", dtype)
    pos_t = v.threshold(pos_threshold, "pos_threshold", dtype)
    return probs, offs, anc, nms_t, pos_t


def _bucketed_detection(*args):
    """Eager :func:`multibox_detection`: the checks on the host, the anchors padded to their
    shape bucket (:mod:`jaximpl._buckets`), the padding's rows trimmed on the host. A new
    number of anchors compiles only when it opens a new bucket."""
    probs, offs, anc, nms_t, pos_t = _detection_args(*args, host=True)
    num_anchors = probs.shape[2]
    size = bucket(num_anchors, per_octave=4)
    pad = size - num_anchors
    padded = (
        np.pad(probs, ((0, 0), (0, 0), (0, pad))),
        np.pad(offs, ((0, 0), (0, 4 * pad))),
        pad_rows(anc, size),
    )
    device = device_of(*args[:3])
    padded = [jax.device_put(a, device) for a in padded]
    out = _detection_jit(*padded, nms_t, pos_t, jnp.int32(num_anchors))
    host = jax.device_get(out)[:, :num_anchors]
    if host.size and not np.isfinite(host).all():
        raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return jax.device_put(host, out.sharding)


def multibox_detection(
    cls_probs: Any,
    offset_preds: Any,
    anchors: Any,
    nms_threshold: float = 0.5,
    pos_threshold: float = 0.009999999,
) -> jax.Array:
    """Detections for a batch: ``(B, C+1, A), (B, 4A), (1, A, 4) -> (B, A, 6)``.

    Each row is ``(class_id, conf, x1, y1, x2, y2)``. Per image: ``conf`` is the
    largest probability over classes ``1..C`` and ``class_id`` its index minus 1
    (first on ties); boxes are ``offset_inverse(anchors, offsets)``; NMS at
    ``nms_threshold``; the rows are the kept anchors in selection order, then
    the others by ascending anchor index with ``class_id = -1``; finally rows
    with ``conf < pos_threshold`` get ``class_id = -1`` and ``conf = 1 - conf``.

    The whole batch is one computation, no Python loop: one batched sort, then
    the tiled NMS of all images at once (they advance through the same loop,
    so its overhead is shared and its blocks are large enough to use several
    cores), and the row order is a scatter of destination positions (O(A) per
    image).
    Complexity per image: O(A C) for the class maximum, plus the NMS
    (O(A log A + A K) for ``K`` kept boxes, see :func:`nms_padded`); memory
    O(B A C + B T^2). ``jax.jit(multibox_detection)(cls_probs, offset_preds,
    anchors)`` works as it stands. ``B = 0`` or ``A = 0`` gives a ``(B, A, 6)``
    empty result. Called eagerly, the checks run on the host and the anchors are
    padded there to a shape bucket (four per power of two, at least 64;
    :mod:`jaximpl._buckets`): a new number of anchors compiles only when it opens
    a new bucket.

    Raises ``ValueError`` (when concrete) for wrong shapes, non-finite values,
    invalid anchors, mismatched anchors/offsets, thresholds outside ``[0, 1]``,
    or offsets so large that the decoded boxes overflow. Jitted, no value check
    runs: a NaN probability is ignored in the class maximum (all-NaN gives
    ``conf = -inf``, class 0, then ``conf = 1 - (-inf) = inf``); a NaN offset
    gives a NaN box that is always kept (IoU 0 with everything).
    """
    if _concrete(cls_probs, offset_preds, anchors, nms_threshold, pos_threshold):
        return _bucketed_detection(cls_probs, offset_preds, anchors, nms_threshold, pos_threshold)
    args = _detection_args(cls_probs, offset_preds, anchors, nms_threshold, pos_threshold)
    out = _detection_jit(*args)
    if v.is_concrete(out) and out.size and not bool(jnp.all(jnp.isfinite(out))):
        raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out
