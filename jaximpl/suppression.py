"""Non-maximum suppression (static-shape and eager) and the detection post-processing.

The NMS is tiled. Boxes are visited in ``(-score, index)`` order, ``T`` at a
time. Kept boxes are appended, in selection order, to a compact buffer. For a
tile:

1. *cross*: every box of the tile that has IoU ``> t`` with a kept box of an
   earlier tile is suppressed. Only the kept boxes are visited (``ceil(K / C)``
   blocks of ``C x T`` IoUs, stopping once the whole tile is suppressed), so the
   work follows the number of kept boxes ``K``;
2. *self* (skipped when no candidate is left): the candidates are resolved
   against each other: with
   ``S[j, k] = IoU(j, k) > t`` for ``j < k`` in the tile,
   ``keep <- candidates & ~any_j(S[j, :] & keep[j])`` is iterated to a fixed
   point. Box ``k``'s decision depends only on the boxes before it, so after
   ``n`` iterations the first ``n`` decisions are final and the fixed point is
   unique: it is the greedy answer (chains A -> B -> C keep C). It is reached
   after at most (longest suppression chain + 1) iterations;
3. the kept boxes of the tile are appended to the buffer.

The loop stops early once ``max_output_size`` boxes are kept. The visiting
order comes from sorting one int32 key per box (see :func:`_score_order`).

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
from jax import lax

from . import _validate as v
from .boxes import _offset_inverse
from .matching import _max_argmax

# Boxes per tile, tuned on a 2-core CPU (XLA:CPU vectorises the 32 x 64 IoU
# blocks well; 64 x 64 and larger blocks run several times slower per IoU).
TILE = 64
# Kept boxes per block of the cross step.
CHUNK = 32
# Accelerators run each loop iteration as a kernel launch: bigger blocks there
# (not measured in this project yet).
_ACCELERATOR_TILE, _ACCELERATOR_CHUNK = 256, 256


def _default_blocks() -> tuple[int, int]:
    if jax.default_backend() == "cpu":
        return TILE, CHUNK
    return _ACCELERATOR_TILE, _ACCELERATOR_CHUNK


def _descending_key(scores: jax.Array) -> jax.Array:
    """int32 keys whose ascending order is descending score, NaN last, ``-0.0 == 0.0``."""
    s = jnp.where(scores == 0, jnp.zeros_like(scores), scores).astype(jnp.float32)
    bits = lax.bitcast_convert_type(s, jnp.int32)
    # Order-preserving map of float bits to int32 (flip the magnitude of negatives).
    key = jnp.where(bits >= 0, bits, bits ^ jnp.int32(0x7FFFFFFF))
    key = jnp.where(jnp.isnan(s), jnp.iinfo(jnp.int32).min, key)
    return ~key  # ~k = -k - 1: reverses the order without overflow; NaN -> INT32_MAX


def _score_order(scores: jax.Array) -> jax.Array:
    """Indices by descending score, ties by ascending index, NaN last: ``(..., N) -> (..., N)``.

    Sorting one int32 key is several times faster on CPU than sorting a key
    with an index payload, so the keys are sorted alone and each element finds
    its rank by binary search (O(N log N)). Equal keys share a first rank; they
    then take consecutive slots in index order: each pass, every unplaced
    element bids for its next slot and the lowest index wins it (a scatter-min),
    so the passes are as many as the largest group of equal scores (1 when all
    scores differ).
    """
    n = scores.shape[-1]
    if n == 0:
        return jnp.zeros(scores.shape, jnp.int32)
    if scores.dtype != jnp.float32:
        # float64 (x64 enabled): the exact stable sort (NaN last, -0.0 == 0.0).
        iota = lax.broadcasted_iota(jnp.int32, scores.shape, scores.ndim - 1)
        nan = jnp.isnan(scores)
        key = jnp.where(nan | (scores == 0), 0, -scores)
        return lax.sort((nan.astype(jnp.int32), key, iota), num_keys=3)[2]
    shape = scores.shape
    flat = scores.reshape(-1, n)  # (R, N): one row per image
    rows = flat.shape[0]
    key = _descending_key(flat)
    sorted_key = jnp.sort(key, axis=-1)
    rank = jax.vmap(lambda a, v: jnp.searchsorted(a, v, side="left", method="scan_unrolled"))(
        sorted_key, key
    )
    # Global slot numbers, so one flat scatter serves the whole batch.
    offset = (jnp.arange(rows, dtype=jnp.int32) * n)[:, None]
    slot = (rank.astype(jnp.int32) + offset).reshape(-1)
    iota = jnp.arange(rows * n, dtype=jnp.int32)
    big = jnp.iinfo(jnp.int32).max

    def bid(state):
        slot, placed, table = state
        table = table.at[jnp.where(placed, rows * n, slot)].min(iota, mode="drop")
        won = table[slot] == iota
        placed = placed | won
        return jnp.where(placed, slot, slot + 1), placed, table

    state = (slot, jnp.zeros(rows * n, bool), jnp.full(rows * n, big, jnp.int32))
    table = lax.while_loop(lambda s: ~jnp.all(s[1]), bid, state)[2]
    return (
        (table - offset.reshape(-1).repeat(n)).reshape(shape) if rows > 1 else table.reshape(shape)
    )


def _iou_t(a: jax.Array, area_a: jax.Array, b: jax.Array, area_b: jax.Array) -> jax.Array:
    """IoU of coordinate-major boxes: ``(4, P), (P,), (4, Q), (Q,) -> (P, Q)``.

    The formula (and float operations) of :func:`box_iou`, on contiguous rows.
    """
    left = jnp.maximum(a[0][:, None], b[0][None, :])
    top = jnp.maximum(a[1][:, None], b[1][None, :])
    right = jnp.minimum(a[2][:, None], b[2][None, :])
    bottom = jnp.minimum(a[3][:, None], b[3][None, :])
    inter = jnp.maximum(right - left, 0) * jnp.maximum(bottom - top, 0)
    union = area_a[:, None] + area_b[None, :] - inter
    positive = union > 0
    return jnp.where(positive, inter / jnp.where(positive, union, 1), 0)


def _nms_sorted(
    sorted_boxes: jax.Array,
    order: jax.Array,
    iou_threshold: jax.Array,
    max_output_size: int,
    tile: int,
    chunk: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The tiled NMS of boxes already in visiting order (see :func:`_nms_core`).

    ``sorted_boxes`` ``(4, Np)`` coordinate-major, ``Np`` a multiple of ``tile``;
    ``order`` ``(Np,)`` the original index of each, -1 for padding.
    """
    dtype = sorted_boxes.dtype
    n_pad = order.shape[0]
    num_tiles = n_pad // tile
    t = jnp.asarray(iou_threshold, dtype)
    sorted_area = (sorted_boxes[2] - sorted_boxes[0]) * (sorted_boxes[3] - sorted_boxes[1])
    # The buffer of kept boxes never needs more than max_output_size entries
    # (rounded to whole tiles): the loop stops as soon as that many are kept.
    chunk = min(_default_blocks()[1] if chunk is None else chunk, n_pad)
    cap = -(-min(max_output_size, n_pad) // chunk) * chunk
    iota = jnp.arange(tile, dtype=jnp.int32)
    chunk_iota = jnp.arange(chunk, dtype=jnp.int32)
    upper = iota[:, None] < iota[None, :]  # j < k

    def one_tile(state):
        i, num_kept, kept_boxes, kept_area, kept_idx = state
        start = i * tile
        tile_boxes = lax.dynamic_slice_in_dim(sorted_boxes, start, tile, axis=1)
        tile_area = lax.dynamic_slice_in_dim(sorted_area, start, tile)
        tile_idx = lax.dynamic_slice_in_dim(order, start, tile)

        real = tile_idx >= 0

        def cross(state):
            # Suppression by the kept boxes c*C .. c*C + C - 1 of earlier tiles.
            c, sup = state
            kb = lax.dynamic_slice_in_dim(kept_boxes, c * chunk, chunk, axis=1)
            ka = lax.dynamic_slice_in_dim(kept_area, c * chunk, chunk)
            live = c * chunk + chunk_iota < num_kept
            over = (_iou_t(kb, ka, tile_boxes, tile_area) > t) & live[:, None]
            return c + 1, sup | jnp.any(over, axis=0)

        # Stop early once every box of the tile is suppressed.
        num_blocks = (num_kept + chunk - 1) // chunk
        sup = lax.while_loop(
            lambda s: (s[0] < num_blocks) & ~jnp.all(s[1] | ~real),
            cross,
            (jnp.int32(0), jnp.zeros(tile, bool)),
        )[1]
        cand = real & ~sup

        def resolve_and_append(args):
            num_kept, kept_boxes, kept_area, kept_idx = args
            over = (_iou_t(tile_boxes, tile_area, tile_boxes, tile_area) > t) & upper
            over = over & cand[:, None]  # only candidates can suppress

            def step(s):
                keep, _ = s
                new = cand & ~jnp.any(over & keep[:, None], axis=0)
                return new, jnp.any(new != keep)

            keep = lax.while_loop(lambda s: s[1], step, (cand, jnp.bool_(True)))[0]
            pos = jnp.where(keep, num_kept + jnp.cumsum(keep) - 1, cap)  # cap: dropped
            kept_boxes = kept_boxes.at[:, pos].set(tile_boxes, mode="drop")
            kept_area = kept_area.at[pos].set(tile_area, mode="drop")
            kept_idx = kept_idx.at[pos].set(tile_idx, mode="drop")
            return num_kept + jnp.sum(keep, dtype=jnp.int32), kept_boxes, kept_area, kept_idx

        # A tile entirely suppressed by earlier kept boxes needs no more work.
        out = lax.cond(
            jnp.any(cand),
            resolve_and_append,
            lambda args: args,
            (num_kept, kept_boxes, kept_area, kept_idx),
        )
        return (i + 1, *out)

    state = (
        jnp.int32(0),
        jnp.int32(0),
        jnp.zeros((4, cap), dtype),
        jnp.zeros((cap,), dtype),
        jnp.full((cap,), -1, jnp.int32),
    )
    state = lax.while_loop(lambda s: (s[0] < num_tiles) & (s[1] < max_output_size), one_tile, state)
    num_kept, kept_idx = state[1], state[4]
    count = jnp.minimum(num_kept, max_output_size)
    if cap < max_output_size:
        kept_idx = jnp.pad(kept_idx, (0, max_output_size - cap), constant_values=-1)
    kept_idx = kept_idx[:max_output_size]
    return jnp.where(jnp.arange(max_output_size) < count, kept_idx, -1), count


def _prepare(boxes: jax.Array, scores: jax.Array, tile: int | None):
    """Visiting order and padded coordinate-major sorted boxes, batched over leading dims.

    ``(..., N, 4), (..., N) -> (..., 4, Np), (..., Np), tile``.
    """
    n = boxes.shape[-2]
    tile = min(_default_blocks()[0] if tile is None else tile, -(-n // 8) * 8)
    n_pad = -(-n // tile) * tile
    order = _score_order(scores)
    sorted_boxes = jnp.take_along_axis(boxes, order[..., None], axis=-2)
    pad = [(0, 0)] * (boxes.ndim - 2)
    sorted_boxes = jnp.pad(jnp.swapaxes(sorted_boxes, -1, -2), [*pad, (0, 0), (0, n_pad - n)])
    order = jnp.pad(order, [*pad, (0, n_pad - n)], constant_values=-1)
    return sorted_boxes, order, tile


def _nms_core(
    boxes: jax.Array,
    scores: jax.Array,
    iou_threshold: jax.Array,
    max_output_size: int,
    tile: int | None = None,
    chunk: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Static-shape NMS, no checks: ``(N, 4), (N,), ()`` -> ``(max_output_size,)`` int32, count.

    Complexity: the sort is O(N log N). The cross step costs O(T) per pair
    (tile, kept box): O(N K) IoUs for ``K`` kept boxes (at most O(N^2); with
    early exit, O(N min(K, max_output_size))). The self step costs
    O(T^2 (c + 1)) per tile that has candidates left, for chains of length
    ``c``: at most O(N T (c + 1)). Memory O(N + T^2).
    """
    n = boxes.shape[0]
    if max_output_size == 0:
        return jnp.zeros((0,), jnp.int32), jnp.int32(0)
    if n == 0:
        return jnp.full((max_output_size,), -1, jnp.int32), jnp.int32(0)
    sorted_boxes, order, tile = _prepare(boxes, scores, tile)
    return _nms_sorted(sorted_boxes, order, iou_threshold, max_output_size, tile, chunk)


_nms_jit = jax.jit(_nms_core, static_argnames="max_output_size")


def _keep_mask_core(boxes: jax.Array, scores: jax.Array, iou_threshold: jax.Array) -> jax.Array:
    n = boxes.shape[0]
    idx, _ = _nms_core(boxes, scores, iou_threshold, n)
    return jnp.zeros(n, bool).at[jnp.where(idx >= 0, idx, n)].set(True, mode="drop")


_keep_mask_jit = jax.jit(_keep_mask_core)


def _check_nms_args(boxes: Any, scores: Any, iou_threshold: Any):
    b = v.boxes(boxes, "boxes")
    s = v.as_array(scores, "scores", ndim=1)
    v.check_finite(s, "scores")
    v.same_length(b, "boxes", s, "scores")
    dtype = jnp.promote_types(b.dtype, s.dtype)
    t = v.threshold(iou_threshold, "iou_threshold", dtype)
    return b.astype(dtype), s.astype(dtype), t


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
    may be traced. Tiled algorithm (see the module docstring): time
    O(N log N + N min(K, max_output_size) + N T c) for ``K`` kept boxes, tile
    ``T`` (64 on CPU) and chains of length ``c``; memory O(N + T^2); it stops
    once ``max_output_size`` boxes are kept.

    Raises ``ValueError`` (when concrete) for invalid boxes, non-finite scores,
    mismatched lengths, a threshold outside ``[0, 1]`` or a bad
    ``max_output_size``. Jitted, no value check runs: NaN scores are visited
    last, boxes with NaN coordinates are always kept (IoU 0 with everything).
    """
    k = v.output_size(max_output_size)
    b, s, t = _check_nms_args(boxes, scores, iou_threshold)
    return _nms_jit(b, s, t, max_output_size=k)


def nms_keep_mask(boxes: Any, scores: Any, iou_threshold: float) -> jax.Array:
    """Static-shape NMS as a keep mask: ``(N, 4), (N,) -> (N,)`` bool, True = kept.

    Same decisions, complexity and jitted behaviour as :func:`nms_padded` with
    ``max_output_size = N`` (the selection order is lost). Jittable as it
    stands; raises ``ValueError`` like :func:`nms_padded` when concrete.
    """
    b, s, t = _check_nms_args(boxes, scores, iou_threshold)
    return _keep_mask_jit(b, s, t)


def nms(boxes: Any, scores: Any, iou_threshold: float) -> jax.Array:
    """Non-maximum suppression, eager: ``(N, 4), (N,), threshold -> (K,)`` int32 kept indices.

    The d2l form: the kept indices in the order they were kept (descending
    score, ties to the lower index; suppression strictly ``IoU > iou_threshold``).
    It runs :func:`nms_padded` with ``max_output_size = N`` and trims the
    padding, so the result has a data-dependent length and this function cannot
    be jitted (use :func:`nms_padded` or :func:`nms_keep_mask` there).
    Complexity as :func:`nms_padded`. Raises ``ValueError`` for invalid input.
    """
    b, s, t = _check_nms_args(boxes, scores, iou_threshold)
    if not (v.is_concrete(b) and v.is_concrete(s) and v.is_concrete(t)):
        raise TypeError(
            "nms returns a variable number of indices and cannot be traced; "
            "use nms_padded(..., max_output_size=N) or nms_keep_mask inside jit/vmap"
        )
    idx, count = _nms_jit(b, s, t, max_output_size=b.shape[0])
    return idx[: int(count)]


def _detection_core(
    cls_probs: jax.Array,
    offset_preds: jax.Array,
    anchors: jax.Array,
    nms_threshold: jax.Array,
    pos_threshold: jax.Array,
) -> jax.Array:
    """``(B, C+1, A), (B, 4A), (A, 4), (), () -> (B, A, 6)``, no checks."""
    batch, _, num_anchors = cls_probs.shape
    dtype = jnp.promote_types(cls_probs.dtype, jnp.promote_types(offset_preds.dtype, anchors.dtype))
    probs = cls_probs[:, 1:, :].astype(dtype)
    # Class max and first argmax; NaN probabilities are treated as -inf here.
    probs = jnp.where(jnp.isnan(probs), -jnp.inf, probs)
    conf, class_id = _max_argmax(probs, 1)  # (B, A)
    boxes = _offset_inverse(
        anchors[None].astype(dtype), offset_preds.reshape(batch, num_anchors, 4).astype(dtype)
    )
    if num_anchors == 0:
        return jnp.zeros((batch, 0, 6), dtype)
    sorted_boxes, order, tile = _prepare(boxes, conf, None)  # sorted over the whole batch

    def one_image(args):
        return _nms_sorted(args[0], args[1], nms_threshold, num_anchors, tile)

    if jax.default_backend() == "cpu":
        # One image after the other: each stops as soon as it is done (vmap would
        # run every loop until the slowest image is done, and both sides of conds).
        keep_idx, count = lax.map(one_image, (sorted_boxes, order))  # (B, A), (B,)
    else:
        keep_idx, count = jax.vmap(one_image)((sorted_boxes, order))
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


_detection_jit = jax.jit(_detection_core)


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
    the NMS per image (``lax.map`` on CPU, where each image then stops as soon
    as it is done; ``vmap`` on accelerators), and the row order is a scatter of
    destination positions (O(A) per image).
    Complexity per image: O(A C) for the class maximum, plus the NMS
    (O(A log A + A K) for ``K`` kept boxes, see :func:`nms_padded`); memory
    O(B A C + T^2). ``jax.jit(multibox_detection)(cls_probs, offset_preds,
    anchors)`` works as it stands.

    Raises ``ValueError`` (when concrete) for wrong shapes, non-finite values,
    invalid anchors, mismatched anchors/offsets, thresholds outside ``[0, 1]``,
    or offsets so large that the decoded boxes overflow. Jitted, no value check
    runs: a NaN probability is ignored in the class maximum (all-NaN gives
    ``conf = -inf``, class 0, then ``conf = 1 - (-inf) = inf``); a NaN offset
    gives a NaN box that is always kept (IoU 0 with everything).
    """
    probs = v.as_array(cls_probs, "cls_probs", ndim=3)
    v.check_finite(probs, "cls_probs")
    if probs.shape[1] < 2:
        raise ValueError(
            "cls_probs: needs a background row and at least one class, "
            f"got shape {tuple(probs.shape)}"
        )
    anc = v.anchors_1a4(anchors, "anchors")
    offs = v.as_array(offset_preds, "offset_preds", ndim=2)
    v.check_finite(offs, "offset_preds")
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
    out = _detection_jit(probs, offs, anc, nms_t, pos_t)
    if v.is_concrete(out) and out.size and not bool(jnp.all(jnp.isfinite(out))):
        raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out


@partial(jax.jit, static_argnames="max_output_size")
def nms_padded_jit(
    boxes: jax.Array, scores: jax.Array, iou_threshold: jax.Array, max_output_size: int
) -> tuple[jax.Array, jax.Array]:
    """:func:`nms_padded` without any checks (already jitted, ``max_output_size`` static)."""
    return _nms_core(boxes, scores, iou_threshold, max_output_size)


__all__ = [
    "multibox_detection",
    "nms",
    "nms_keep_mask",
    "nms_padded",
    "nms_padded_jit",
]
