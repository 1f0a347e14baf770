"""Matching anchors to ground truth, and the training targets built on it (CONTRACT.md §2.4, §2.7).

The greedy phase of the assignment never materialises or rewrites the
``(A, G)`` IoU matrix. It keeps, per ground truth (column), the largest IoU
over the anchors still in play and the anchor that attains it (the lowest
index on ties). A round picks the best column, assigns and removes its anchor
and the column, and recomputes only the columns whose best anchor was the one
just removed. All indices are per-axis (anchor index < A, ground-truth index
< G): no flat index into the ``A * G`` matrix exists anywhere, so nothing
overflows when ``A * G`` exceeds 2^24 or 2^31.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _validate as v
from ._buckets import MIN_ROWS, bucket, device_of, pad_rows, to_device
from ._core import area, encode, iou_from_parts, max_argmax

# At most this many columns are recomputed per pass over the anchors.
_RECOMPUTE_COLUMNS = 8
# Above this many IoUs per pass (B * A * G), the first pass runs over chunks of
# anchors so that no (B, A, G) intermediate is ever materialised.
_CHUNK_ELEMENTS = 1 << 22
# The anchors are padded to a multiple of this (padding never competes).
_LANES = 128


def _initial_stats(anchors, anc_area, real, gt, gt_area, valid, iou_threshold):
    """Step a and the per-column maxima, in one pass over the ``B x A x G`` IoUs.

    ``anchors`` ``(Ap, 4)`` padded to a multiple of ``_LANES`` (``real`` marks
    the true ones). Returns ``assigned`` ``(B, A)`` (step a), ``col_max``,
    ``col_arg`` ``(B, G)`` (largest IoU of each column and its first anchor).
    Memory: at most about ``_CHUNK_ELEMENTS`` IoUs live at a time.
    """
    batch, num_gt = valid.shape
    num_anchors = anchors.shape[0]
    neg_inf = jnp.array(-jnp.inf, anchors.dtype)

    def stats(anc, anc_area, ok, first):  # (C, 4), (C,), (C,), () -> (B, C) x2, (B, G) x2
        jac = iou_from_parts(anc[None], anc_area[None], gt, gt_area)  # (B, C, G), fused
        jac = jnp.where(valid[:, None, :] & ok[None, :, None], jac, neg_inf)
        col_max, col_arg = max_argmax(jac, 1)
        return (*max_argmax(jac, 2), col_max, col_arg + first)

    per_anchor = batch * num_gt
    chunk = max(_LANES, _CHUNK_ELEMENTS // max(per_anchor, 1) // _LANES * _LANES)
    if num_anchors <= chunk:
        row_max, row_arg, col_max, col_arg = stats(anchors, anc_area, real, 0)
    else:
        num_chunks = -(-num_anchors // chunk)
        pad = num_chunks * chunk - num_anchors
        anc = jnp.pad(anchors, ((0, pad), (0, 0))).reshape(num_chunks, chunk, 4)
        areas = jnp.pad(anc_area, (0, pad)).reshape(num_chunks, chunk)
        ok = jnp.pad(real, (0, pad)).reshape(num_chunks, chunk)

        def body(carry, xs):
            best, best_arg = carry
            a, ar, o, c = xs
            row_max, row_arg, cm, ca = stats(a, ar, o, c * chunk)
            take = cm > best  # earlier chunks win ties (lower anchor index)
            carry = (jnp.where(take, cm, best), jnp.where(take, ca, best_arg))
            return carry, (row_max, row_arg)

        init = (jnp.full((batch, num_gt), neg_inf), jnp.zeros((batch, num_gt), jnp.int32))
        xs = (anc, areas, ok, jnp.arange(num_chunks, dtype=jnp.int32))
        (col_max, col_arg), (row_max, row_arg) = lax.scan(body, init, xs)
        row_max = jnp.moveaxis(row_max, 0, 1).reshape(batch, -1)[:, :num_anchors]
        row_arg = jnp.moveaxis(row_arg, 0, 1).reshape(batch, -1)[:, :num_anchors]
    assigned = jnp.where(row_max >= iou_threshold, row_arg, -1).astype(jnp.int32)
    return assigned, col_max, col_arg


def _assign_core(
    ground_truth: jax.Array, valid: jax.Array, anchors: jax.Array, iou_threshold: jax.Array
) -> jax.Array:
    """Batched assignment, no checks: ``(B, G, 4), (B, G) bool, (A, 4), () -> (B, A)`` int32.

    ``valid[b, g]`` is False for padding rows: they never take an anchor, and
    image ``b`` runs ``min(A, sum(valid[b]))`` greedy rounds.

    Complexity: step a and the initial column maxima are one fused pass over
    the ``B x A x G`` IoUs (time O(B A G), memory O(B (A + G)); the IoU matrix
    is not stored, the pass runs over chunks of anchors when it is large). The
    greedy phase runs ``max_b min(A, G_b)`` rounds of O(B G) each, plus O(B A)
    for every group of up to 8 columns that must be recomputed because their
    best anchor was taken. With distinct best anchors per column (the usual
    case) no recompute happens: total O(B A G + B G^2). The worst case (all
    columns share their best anchors) is O(B A G^2 / 8).
    """
    batch, num_gt = valid.shape
    num_anchors = anchors.shape[0]
    if num_gt == 0 or num_anchors == 0:
        return jnp.full((batch, num_anchors), -1, jnp.int32)
    dtype = jnp.promote_types(ground_truth.dtype, anchors.dtype)
    gt = ground_truth.astype(dtype)
    padded = -(-num_anchors // _LANES) * _LANES
    anchors = jnp.pad(anchors.astype(dtype), ((0, padded - num_anchors), (0, 0)))
    real = jnp.arange(padded) < num_anchors
    anc_area = area(anchors)
    gt_area = area(gt)
    neg_inf = jnp.array(-jnp.inf, dtype)

    assigned, col_max, col_arg = _initial_stats(
        anchors, anc_area, real, gt, gt_area, valid, iou_threshold
    )

    rounds = jnp.minimum(num_anchors, jnp.sum(valid, axis=1, dtype=jnp.int32))  # (B,)
    b_idx = jnp.arange(batch)
    g_iota = jnp.arange(num_gt, dtype=jnp.int32)[None, :]
    k = min(num_gt, _RECOMPUTE_COLUMNS)

    def recompute(state):
        """Recompute up to ``k`` affected columns per image in one pass over the anchors."""
        col_max, col_arg, affected, removed = state
        score = jnp.where(affected, num_gt - g_iota, 0)  # first affected columns score highest
        top, cols = lax.top_k(score, k)  # (B, k)
        sel = top > 0
        boxes = jnp.take_along_axis(gt, cols[..., None], axis=1)  # (B, k, 4)
        areas = jnp.take_along_axis(gt_area, cols, axis=1)
        jk = iou_from_parts(anchors[None], anc_area[None], boxes, areas)  # (B, Ap, k)
        jk = jnp.where(removed[:, :, None], neg_inf, jk)
        new_max, new_arg = max_argmax(jk, 1)  # (B, k)
        rows = b_idx[:, None]
        col_max = col_max.at[rows, cols].set(jnp.where(sel, new_max, col_max[rows, cols]))
        col_arg = col_arg.at[rows, cols].set(jnp.where(sel, new_arg, col_arg[rows, cols]))
        affected = affected.at[rows, cols].set(False)
        return col_max, col_arg, affected, removed

    def one_round(state):
        r, assigned, col_max, col_arg, alive, removed = state
        active = r < rounds  # (B,)
        # The largest remaining entry; ties: lowest anchor, then lowest ground truth.
        best = jnp.max(jnp.where(alive, col_max, neg_inf), axis=1, keepdims=True)
        cand = alive & (col_max == best)
        a_star = jnp.min(jnp.where(cand, col_arg, num_anchors), axis=1)  # (B,)
        g_star = jnp.argmax(cand & (col_arg == a_star[:, None]), axis=1).astype(jnp.int32)
        a_safe = jnp.minimum(a_star, num_anchors - 1)
        assigned = assigned.at[b_idx, a_safe].set(
            jnp.where(active, g_star, assigned[b_idx, a_safe])
        )
        removed = removed.at[b_idx, a_safe].set(removed[b_idx, a_safe] | active)
        alive = alive & ~(active[:, None] & (g_iota == g_star[:, None]))
        affected = alive & active[:, None] & (col_arg == a_star[:, None])
        col_max, col_arg, _, _ = lax.while_loop(
            lambda s: jnp.any(s[2]), recompute, (col_max, col_arg, affected, removed)
        )
        return r + 1, assigned, col_max, col_arg, alive, removed

    removed = jnp.broadcast_to(~real, (batch, padded))  # padding anchors never compete
    state = (jnp.int32(0), assigned, col_max, col_arg, valid, removed)
    max_rounds = jnp.max(rounds)
    state = lax.while_loop(lambda s: s[0] < max_rounds, one_round, state)
    return state[1][:, :num_anchors]


_assign_jit = jax.jit(_assign_core)


def _target_core(anchors: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(A, 4), (B, G, 5)`` -> offsets ``(B, 4A)``, mask ``(B, 4A)``, classes ``(B, A)``."""
    batch, num_gt = labels.shape[:2]
    num_anchors = anchors.shape[0]
    dtype = jnp.promote_types(anchors.dtype, labels.dtype)
    if batch == 0 or num_gt == 0 or num_anchors == 0:
        zeros = jnp.zeros((batch, 4 * num_anchors), dtype)
        return zeros, zeros, jnp.zeros((batch, num_anchors), jnp.int32)
    classes = labels[..., 0]
    valid = classes >= 0  # NaN classes count as padding
    assigned = _assign_core(labels[..., 1:], valid, anchors, jnp.asarray(0.5, dtype))
    hit = assigned >= 0  # (B, A)
    matched = jnp.take_along_axis(labels, jnp.maximum(assigned, 0)[..., None], axis=1)
    class_labels = jnp.where(hit, matched[..., 0].astype(jnp.int32) + 1, 0)
    offsets = encode(anchors[None].astype(dtype), matched[..., 1:].astype(dtype), 1e-6)
    offsets = jnp.where(hit[..., None], offsets, 0).astype(dtype)
    mask = jnp.broadcast_to(hit[..., None], offsets.shape).astype(dtype)
    return (
        offsets.reshape(batch, -1),
        mask.reshape(batch, -1),
        class_labels.astype(jnp.int32),
    )


_target_jit = jax.jit(_target_core)


def _row_bucket(rows: jax.Array, pad_row: list[float], given: Any) -> jax.Array | np.ndarray:
    """Concrete ``(..., G, C)`` rows padded with ``pad_row`` to their bucket of ``G``
    (:mod:`jaximpl._buckets`), on the device of ``given`` (the caller's argument: a JAX
    array goes back to its device, NumPy input stays on the host for the jitted call)."""
    g = rows.shape[-2]
    size = bucket(g, per_octave=4, minimum=MIN_ROWS)
    if size == g:
        return rows
    host = pad_rows(np.asarray(jax.device_get(rows)), size, axis=rows.ndim - 2)
    host[..., g:, :] = np.asarray(pad_row, host.dtype)
    return to_device(host, device_of(given))


def assign_anchor_to_bbox(
    ground_truth: Any, anchors: Any, device: Any = None, iou_threshold: float = 0.5
) -> jax.Array:
    """Assign ground-truth boxes to anchors: ``(G, 4), (A, 4) -> (A,)`` int32, -1 = none.

    With ``J = box_iou(anchors, ground_truth)``:

    a. each anchor whose best IoU is ``>= iou_threshold`` takes its best ground
       truth (the lowest index on ties);
    b. then ``min(A, G)`` greedy rounds: the largest remaining entry of ``J``
       (the first in row-major order on ties) assigns its anchor to its ground
       truth, overriding a, and removes that row and column. A round runs even
       when the largest remaining IoU is 0.

    ``device`` is accepted for d2l compatibility and ignored. Zero ground truths
    give all -1. Called eagerly, the ground truths are padded to a bucket of ``G``
    (at least 8, four per power of two: :mod:`jaximpl._buckets`) as rows that are
    never assigned, so a stream of ground-truth counts compiles once per bucket.
    Complexity: time O(A G) for the fused IoU pass plus O(G^2) for the greedy
    rounds, plus O(A) per recomputed group of columns (see :func:`_assign_core`);
    memory O(A + G) (the ``(A, G)`` matrix is never stored).

    Raises ``ValueError`` (when concrete) for invalid boxes or a threshold
    outside ``[0, 1]``. Jitted, no value check runs: IoUs involving NaN
    coordinates are 0 (see :func:`box_iou`), so a NaN ground truth takes an
    anchor only in the greedy step (every round runs); a NaN threshold assigns
    nothing in step a.
    """
    del device
    gt = v.boxes(ground_truth, "ground_truth")
    anc = v.boxes(anchors, "anchors")
    dtype = jnp.promote_types(gt.dtype, anc.dtype)
    t = v.threshold(iou_threshold, "iou_threshold", dtype)
    num_gt = gt.shape[0]
    if v.is_concrete(gt):  # eager: one program per bucket of G (padding rows are not valid)
        gt = _row_bucket(gt, [0, 0, 0, 0], ground_truth)
    valid = np.arange(gt.shape[0]) < num_gt
    return _assign_jit(gt[None].astype(dtype), valid[None], anc.astype(dtype), t)[0]


def multibox_target(anchors: Any, labels: Any) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Training targets for a batch: ``(1, A, 4), (B, G, 5)`` -> offsets, mask, classes.

    A label row is ``(class, x1, y1, x2, y2)``; rows with ``class < 0`` are
    padding, ignored (their coordinates are never read), so a fixed ``G`` with
    padded rows jits once for every batch. Per image, the anchors are assigned
    (threshold 0.5) over the non-padding rows. Returns

    - ``offsets`` ``(B, 4A)`` float32: ``offset_boxes(anchor, assigned box)``
      for assigned anchors, exactly 0 elsewhere;
    - ``mask`` ``(B, 4A)`` float32: 1 on the four entries of assigned anchors;
    - ``class_labels`` ``(B, A)`` int32: the assigned row's class + 1, or 0.

    The whole batch is one computation (no Python loop over images). Called
    eagerly, ``G`` is padded with padding rows to a bucket (at least 8, four per
    power of two: :mod:`jaximpl._buckets`), so a stream of row counts compiles
    once per bucket. ``B = 0``
    images, ``G = 0`` rows or ``A = 0`` anchors give empty or all-zero targets.
    Complexity: time O(B A G + B G^2) in the usual case (see
    :func:`assign_anchor_to_bbox`), memory O(B A + B G).

    Raises ``ValueError`` (when concrete) for a wrong shape, invalid anchors
    (including zero width or height), non-finite classes, invalid boxes in
    non-padding rows, or non-integer classes. Jitted, no value check runs: a
    NaN class counts as padding; a fractional class is truncated toward zero;
    a NaN box takes an anchor only in the greedy step (IoU 0) and gets NaN
    offsets; a zero-width anchor assigned to a box gets inf/NaN offsets.
    """
    # Small concrete input is checked and padded on the host: no program per shape for that.
    host = v.is_concrete(anchors) and v.is_concrete(labels)
    host = host and max(np.size(anchors), np.size(labels)) <= v.HOST_CHECK_MAX
    anc = v.anchors_1a4(anchors, "anchors", host=host)
    v.anchor_extent(anc, "anchors")
    if host:
        lab = v.host_array(labels, "labels", ndim=3, last=5)
    else:
        lab = v.as_array(labels, "labels", ndim=3, last=5)
    if v.is_concrete(lab) and lab.size:
        _check_label_rows(lab)
    dtype = jnp.promote_types(anc.dtype, lab.dtype)
    if v.is_concrete(lab):  # eager: one program per bucket of G, as padding rows
        lab = _row_bucket(lab, [-1, 0, 0, 0, 0], labels)
    anc, lab = anc.astype(dtype), lab.astype(dtype)
    if host:  # back to the input's device (NumPy input stays on the host for the call)
        device = device_of(anchors, labels)
        anc, lab = to_device(anc, device), to_device(lab, device)
    return _target_jit(anc, lab)


def _check_label_rows(lab: jax.Array | np.ndarray) -> None:
    """Finite whole classes, and valid boxes in the rows that are not padding (concrete
    ``(B, G, 5)``, on the host when it is a NumPy array)."""
    xp = np if isinstance(lab, np.ndarray) else jnp
    classes = lab[:, :, 0]
    v.check_finite(classes, "labels", "class")
    real = classes >= 0
    v.check_corner_boxes(lab[:, :, 1:], "labels", rows=real)
    bad = jax.device_get(real & (classes != xp.round(classes)))
    if bad.any():
        b, g = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"labels: class must be a whole number, got {float(classes[b, g])} at {(b, g)}"
        )
