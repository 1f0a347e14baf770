"""Class-aware NMS: ``batched_nms`` and its static twin ``batched_nms_padded`` (CONTRACT.md §3.2).

Boxes of different classes never suppress each other. The classes are the rows of a
batch of the tiled NMS kernel (:func:`jaximpl._tiled.nms_sorted`): every (image, class)
pair is a *segment*, its boxes in visiting order (descending score, ties by index) laid
out at the front of one row, so each class is suppressed on its own by exactly the
kernel ``nms`` runs, and no coordinate is ever moved (the coordinate-offset trick is
wrong for negative coordinates and large offsets, PITFALLS.md "Beyond the chapter").

Shapes are static, class counts and sizes are not, so the segments go to two kinds of rows:

- *short* rows: ``B * rows_short`` rows of ``len_short`` boxes (sized from ``N`` so that
  ``rows_short * len_short`` is about ``SHORT_SLACK * N``) hold every segment of at most
  ``len_short`` boxes, as many segments per pass of a ``lax.while_loop`` (one pass for up
  to ``SHORT_ROWS`` classes an image: 80 COCO classes take one; images of up to
  ``SHORT_ROWS`` boxes always take one, without the loop);
- *long* rows: ``B`` rows of all ``N`` boxes hold the longer segments (at most
  ``N / len_short`` an image), ``B`` per pass.

A box kept in its row is marked in an ``(B, N)`` mask; the result is the first
``max_output_size`` marked boxes of each image in visiting order. The NMS does not depend
on ``max_output_size``: jitted, a new ``max_output_size`` compiles only that selection;
eagerly, the selection takes every kept box of the shape bucket and the host cuts it to
``max_output_size``, so a new ``max_output_size`` compiles nothing.

Time: one sort of the boxes by (candidate, class, visiting order), O(N log N), then the
kernel on each pass: O(L K_c) per segment of ``L`` boxes, ``K_c`` kept (see
:mod:`jaximpl._tiled`), plus O(B N) per pass to lay out the rows. Memory
O(SHORT_SLACK B N).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _validate as v
from ._buckets import bucket, device_of, pad_rows, to_device
from ._compile import CpuJit
from ._order import score_order
from ._segments import cumsum, segments
from ._tiled import default_blocks, nms_sorted

# Segments (classes of an image) one pass of short rows takes: 80 COCO classes in one pass.
SHORT_ROWS = 128
# Short rows hold about SHORT_SLACK * N boxes an image: a class may be SHORT_SLACK times
# the mean size of SHORT_ROWS classes and still fit.
SHORT_SLACK = 3


def _round_up(x: int, m: int) -> int:
    return -(-x // m) * m


def plan(n: int) -> tuple[int, int, int]:
    """``(tile, rows_short, len_short)`` for images of ``n >= 1`` boxes (static): short rows
    per image (at most ``SHORT_ROWS``, at least one per box for up to that many boxes, so
    that small images take one pass) and their length."""
    tile = min(default_blocks()[0], _round_up(n, 8))
    rows = min(n, SHORT_ROWS)
    length = min(_round_up(-(-SHORT_SLACK * n // rows), tile), _round_up(n, tile))
    return tile, rows, length


def _pass_rows(
    flat_boxes: jax.Array,
    flat_idx: jax.Array,
    rank: jax.Array,
    pos: jax.Array,
    t: jax.Array,
    keep: jax.Array,
    count: jax.Array,
    rows: int,
    length: int,
    tile: int,
) -> jax.Array:
    """Every segment of rank ``< count`` (rank -1: not here) in passes of ``rows`` rows of
    ``length`` boxes; marks the kept boxes in the flat ``keep`` mask ``(B N,)``."""
    total = keep.shape[0]

    def one_pass(state):
        first, keep = state
        row = rank - first
        here = (rank >= 0) & (row >= 0) & (row < rows)
        dest = jnp.where(here, row * length + pos, rows * length)
        order = jnp.full(rows * length, -1, jnp.int32).at[dest].set(flat_idx, mode="drop")
        order = order.reshape(rows, length)
        boxes = flat_boxes[jnp.maximum(order, 0)]  # (rows, length, 4); padding not read
        kept, _ = nms_sorted(jnp.swapaxes(boxes, 1, 2), order, t, length, tile)
        keep = keep.at[jnp.where(kept >= 0, kept, total).reshape(-1)].set(True, mode="drop")
        return first + rows, keep

    if rows >= keep.shape[0]:  # room for every box in a segment of its own: one pass
        return one_pass((jnp.int32(0), keep))[1]
    return lax.while_loop(lambda s: s[0] < count, one_pass, (jnp.int32(0), keep))[1]


def _keep_core(
    boxes: jax.Array,
    scores: jax.Array,
    classes: jax.Array,
    cand: jax.Array,
    iou_threshold: jax.Array,
    n_valid: jax.Array | None = None,
    layout: tuple[int, int, int] | None = None,
) -> tuple[jax.Array, jax.Array]:
    """``(B, N, 4), (B, N), (B, N), (B, N) bool, ()`` -> ``keep`` (B, N) bool (kept by the
    class-aware NMS of the candidates) and the visiting order (B, N). No checks. ``n_valid``:
    only the first ``n_valid`` boxes of each image are real (a shape bucket; the rest must
    be no candidates), so that the padding's scores never slow the sort down. ``layout``
    overrides :func:`plan`'s ``(tile, rows_short, len_short)`` (tests)."""
    batch, n = scores.shape
    if batch == 0 or n == 0:
        return jnp.zeros((batch, n), bool), jnp.zeros((batch, n), jnp.int32)
    if layout is None:
        tile, rows_short, len_short = plan(n)
        rows_short *= batch  # the segments of every image share a pass
    else:
        tile, rows_short, len_short = layout
    len_long = _round_up(n, tile)
    order = score_order(scores, n_valid)  # (B, N): the visiting order, padding last
    idx, pos, size, first = segments(order, classes, cand)
    offset = (jnp.arange(batch, dtype=jnp.int32) * n)[:, None]
    flat_idx = (idx + offset).reshape(-1)  # flat index of the box at each sorted position
    flat_boxes = boxes.reshape(batch * n, 4)
    # Rank of each position's segment among the short (long) segments of the whole batch.
    short = (size <= len_short).reshape(-1)
    starts = first.reshape(-1)
    rank_short = cumsum((starts & short).astype(jnp.int32)) - 1
    rank_long = cumsum((starts & ~short).astype(jnp.int32)) - 1
    real = jnp.take_along_axis(cand, idx, axis=1).reshape(-1)
    pos = pos.reshape(-1)
    t = jnp.asarray(iou_threshold, boxes.dtype)
    keep = jnp.zeros(batch * n, bool)
    keep = _pass_rows(
        flat_boxes, flat_idx, jnp.where(real & short, rank_short, -1), pos, t, keep,
        rank_short[-1] + 1, rows_short, len_short, tile,
    )  # fmt: skip
    if len_short < len_long:  # otherwise no segment is long
        keep = _pass_rows(
            flat_boxes, flat_idx, jnp.where(real & ~short, rank_long, -1), pos, t, keep,
            rank_long[-1] + 1, batch, len_long, tile,
        )  # fmt: skip
    return keep.reshape(batch, n), order


def _select_one(keep: jax.Array, order: jax.Array, max_output_size: int):
    """:func:`_select` of one image: ``(N,), (N,) -> (max_output_size,), ()``."""
    kept = keep[order]
    slot = cumsum(kept.astype(jnp.int32)) - 1
    slot = jnp.where(kept & (slot < max_output_size), slot, max_output_size)
    out = jnp.full((max_output_size,), -1, jnp.int32).at[slot].set(order, mode="drop")
    return out, jnp.minimum(jnp.sum(kept, dtype=jnp.int32), max_output_size)


def _select(keep: jax.Array, order: jax.Array, max_output_size: int):
    """The first ``max_output_size`` kept boxes of each image in visiting order, padded
    with -1, and their counts: ``(B, N), (B, N) -> (B, max_output_size), (B,)`` int32.
    Per image under ``jax.vmap``, so that a batch sharded over devices stays split (a
    scatter by an explicit image index came back replicated on every device)."""
    return jax.vmap(lambda k, o: _select_one(k, o, max_output_size))(keep, order)


# The heavy part compiles once per shape, whatever max_output_size; the cheap selection per
# max_output_size.
_keep_jit = CpuJit(_keep_core, static_argnames="layout")
_select_jit = jax.jit(_select, static_argnames="max_output_size")


def _batched_core(
    boxes, scores, classes, cand, iou_threshold, max_output_size, layout=None, n_valid=None
):
    """:func:`_keep_core` then :func:`_select` (no checks)."""
    keep, order = _keep_jit(boxes, scores, classes, cand, iou_threshold, n_valid, layout=layout)
    return _select_jit(keep, order, max_output_size=max_output_size)


def _classes(x: Any, name: str, shape: tuple[int, ...], host: bool = False) -> jax.Array:
    """Class labels of ``shape``. Concrete: checked (integers, or finite whole floats) and
    replaced by their dense ranks (int32; the same partition, so the same result, for labels
    of any size; ``host``: as a NumPy array). Traced: integer or float labels as they are."""
    if v.is_concrete(x) and not isinstance(x, jax.Array):
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name}: cannot be read as class labels ({e})") from None
    elif v.is_concrete(x):
        arr = np.asarray(x)
    else:
        arr = None
    dtype = np.dtype(x.dtype) if arr is None else arr.dtype
    if dtype == np.dtype(bool) or not v.real_dtype(dtype):
        raise ValueError(f"{name}: must hold integer class labels, got dtype {dtype}")
    got = tuple(jnp.shape(x)) if arr is None else arr.shape
    if got != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {got}")
    if arr is None:
        return x
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name}: non-finite class labels at index {where} ({arr[where]})")
        fractional = arr != np.round(arr)
        if fractional.any():
            where = tuple(int(i) for i in np.argwhere(fractional)[0])
            raise ValueError(f"{name}: class labels must be whole numbers, got {arr[where]}")
    dense = np.unique(arr, return_inverse=True)[1].reshape(shape).astype(np.int32)
    return dense if host else jnp.asarray(dense)


def _common(boxes: Any, scores: Any, iou_threshold: Any, ndim: int, host: bool = False):
    """Checked boxes, scores (one dtype) and threshold; ``host``: checked on the host and
    returned as NumPy arrays, so that nothing compiles for a new shape (the eager forms)."""
    if host:
        b = v.host_array(boxes, "boxes", ndim=ndim, last=4)
        v.host_check_boxes(b, "boxes")
        s = v.host_array(scores, "scores", ndim=ndim - 1)
    else:
        b = v.as_array(boxes, "boxes", ndim=ndim, last=4)
        v.check_corner_boxes(b, "boxes")
        s = v.as_array(scores, "scores", ndim=ndim - 1)
    if s.shape != b.shape[:-1]:
        raise ValueError(f"scores: expected shape {b.shape[:-1]}, got {s.shape}")
    (v.raise_non_finite if host else v.check_finite)(s, "scores")
    dtype = jnp.promote_types(b.dtype, s.dtype)
    t = v.threshold(iou_threshold, "iou_threshold", dtype, host=host)
    return b.astype(dtype), s.astype(dtype), t


def _bucketed(b: np.ndarray, s: np.ndarray, classes: np.ndarray, cand: np.ndarray, device):
    """Host arrays ``(B, N, ...)`` padded along ``N`` to its shape bucket (:mod:`jaximpl._buckets`)
    for ``device``; the padded boxes are no candidates (never kept, never suppress)."""
    size = bucket(b.shape[1])
    return tuple(
        to_device(pad_rows(x, size, value, axis=1), device)
        for x, value in ((b, 0), (s, 0), (classes, 0), (cand, False))
    )


def batched_nms_padded(
    boxes: Any,
    scores: Any,
    idxs: Any,
    iou_threshold: float,
    max_output_size: int,
    score_threshold: float | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Class-aware NMS of a batch of images, static shapes (CONTRACT.md §3.2).

    ``(B, N, 4), (B, N), (B, N)`` -> ``(indices (B, max_output_size) int32, counts (B,)
    int32)``. For image ``b`` the candidates are its boxes with
    ``scores[b, i] > score_threshold`` (strictly; all of them when it is None);
    ``indices[b]`` holds the first ``max_output_size`` entries of :func:`batched_nms` of
    the candidates (indices into the image's ``N`` boxes), then -1 (never a valid index);
    ``counts[b]`` says how many are valid. A box that is not a candidate is neither kept
    nor suppresses anything; each image gets what it gets alone.

    ``max_output_size`` must be a static int ``>= 0``
    (``jax.jit(batched_nms_padded, static_argnames="max_output_size")``);
    ``iou_threshold``, ``score_threshold`` and every array may be traced, and ``jax.vmap``
    over a further leading axis works. Each class is one row of the tiled NMS kernel (see
    the module docstring for the time and memory). Called eagerly (every argument concrete),
    it checks on the host and pads ``N`` to its shape bucket (CONTRACT.md §4): one program per
    ``B`` and bucket, whatever ``max_output_size`` (the result is cut to it on the host).

    Raises ``ValueError`` (when concrete) for invalid boxes, non-finite scores, class labels
    that are not whole numbers, shapes other than ``(B, N, 4), (B, N), (B, N)``, a threshold
    outside ``[0, 1]``, a bad ``max_output_size`` and a non-finite ``score_threshold``.
    Jitted, no value check runs: NaN scores are visited last, a box with a NaN coordinate is
    kept, float class labels are compared as floats (``-0.0`` is ``0.0``; NaN labels are one
    class), and a NaN ``score_threshold`` makes no box a candidate.
    """
    size = v.output_size(max_output_size)
    args = (boxes, scores, idxs, iou_threshold, score_threshold)
    host = all(v.is_concrete(a) for a in jax.tree_util.tree_leaves(args))
    b, s, t = _common(boxes, scores, iou_threshold, 3, host)
    classes = _classes(idxs, "idxs", tuple(s.shape), host)
    if score_threshold is None:
        cand = (np if host else jnp).ones(s.shape, bool)
    else:
        value = v.scalar(score_threshold, "score_threshold", "a finite number or None")
        if value is not None and not math.isfinite(value):
            raise ValueError(f"score_threshold: must be a finite number or None, got {value}")
        cand = s > (np if host else jnp).asarray(score_threshold, s.dtype)
    if host:  # eager: N padded to its shape bucket, one program per (B, bucket)
        n = np.int32(b.shape[1])
        padded = _bucketed(b, s, classes, cand, device_of(boxes, scores))
        idx, count = _batched_core(*padded, t, padded[0].shape[1], n_valid=n)
        return _fit_rows(idx, count, size)
    return _batched_core(b, s, classes, cand, t, size)


def _fit_rows(idx: jax.Array, count: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """``(B, W)`` indices padded with -1 and their ``(B,)`` counts, cut or padded to ``size``
    columns on the host (on the device, each ``size`` would be a program of its own)."""
    host_idx, host_count = jax.device_get((idx, count))
    out = np.full((host_idx.shape[0], size), -1, np.int32)
    width = min(size, host_idx.shape[1])
    out[:, :width] = host_idx[:, :width]
    counts = np.minimum(host_count, size).astype(np.int32)
    return jax.device_put(out, idx.sharding), jax.device_put(counts, count.sharding)


def batched_nms(boxes: Any, scores: Any, idxs: Any, iou_threshold: float) -> jax.Array:
    """Class-aware NMS, eager: ``(N, 4), (N,), (N,), threshold -> (K,)`` int32 kept indices.

    ``idxs[i]`` is box ``i``'s class: integers, or whole floats, of any sign and size. Each
    class is suppressed on its own exactly as :func:`jaximpl.nms` does it (descending score,
    ties by index, suppressed at IoU ``> iou_threshold``); boxes of different classes never
    suppress each other. The result lists every kept box by descending score, equal scores
    by ascending index, whatever their classes. ``N = 0`` gives an empty result.

    It checks the input on the host, pads ``N`` to its shape bucket (the next power of two, at
    least 64; the padding is no candidate: CONTRACT.md §4), runs the kernel of
    :func:`batched_nms_padded` on it and trims the result on the host, so a stream of box
    counts compiles once per bucket, and it cannot be traced (use the padded twin inside
    ``jit``).
    Raises ``ValueError`` for invalid boxes, non-finite scores, class labels that are not
    whole numbers, mismatched lengths and a threshold outside ``[0, 1]``.
    """
    if not all(v.is_concrete(a) for a in (boxes, scores, idxs, iou_threshold)):
        raise TypeError(
            "batched_nms returns a variable number of indices and cannot be traced; "
            "use batched_nms_padded(..., max_output_size=N) inside jit/vmap"
        )
    b, s, t = _common(boxes, scores, iou_threshold, 2, host=True)
    classes = _classes(idxs, "idxs", (b.shape[0],), host=True)
    device = device_of(boxes, scores)
    padded = _bucketed(b[None], s[None], classes[None], np.ones((1, b.shape[0]), bool), device)
    size = padded[0].shape[1]
    idx, count = _batched_core(*padded, t, size, n_valid=np.int32(b.shape[0]))
    # Trimmed on the host: a slice on the device would compile once per kept count.
    host_idx, host_count = jax.device_get((idx, count))
    return jax.device_put(host_idx[0, : int(host_count[0])], idx.sharding)
