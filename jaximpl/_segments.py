"""The segments of the class-aware NMS (:mod:`jaximpl.batched_nms`).

Every (image, class) pair of candidates is a *segment*: its boxes sorted by (candidate,
class, visiting order) sit side by side, and :func:`segments` gives each box's original
index, its position in its segment, the segment's size and its first box. Class labels of
any integer or float dtype become ordered int32 keys (:func:`class_keys`); a segment's bounds
come from two scatters (:func:`run_bounds`), no scan over the boxes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ._order import order_radix

# Longer sums run as lax.associative_scan: O(n) work in O(log n) vectorised steps, faster
# than XLA:CPU's cumulative sum (commit log); shorter ones as that op, which compiles in a
# fraction of the time.
ASSOCIATIVE_FROM = 1024


def cumsum(x: jax.Array, axis: int = -1) -> jax.Array:
    """Inclusive cumulative sum along ``axis``."""
    if x.shape[axis] >= ASSOCIATIVE_FROM:
        return lax.associative_scan(jnp.add, x, axis=axis)
    return lax.cumsum(x, axis=axis % x.ndim)


def class_keys(classes: jax.Array) -> jax.Array:
    """int32 keys in the order of the labels (float labels as their ordered bits, ``-0.0`` as
    ``0.0``): equal keys, equal labels."""
    if jnp.issubdtype(classes.dtype, jnp.floating):
        c = jnp.where(classes == 0, jnp.zeros_like(classes), classes).astype(jnp.float32)
        bits = lax.bitcast_convert_type(c, jnp.int32)
        return jnp.where(bits >= 0, bits, bits ^ jnp.int32(0x7FFFFFFF))
    return classes.astype(jnp.int32)


def dense_ranks(keys: jax.Array) -> jax.Array:
    """Each key's rank among the distinct keys of its row: ``(B, N)`` int32 -> ``(B, N)``.

    The keys in (key, index) order (:func:`jaximpl._order.order_radix`), a running count of
    the new values along it, scattered back. Only :func:`segments`' branch for labels that
    span ``N`` values or more takes it (jitted calls with such labels; eager ones get dense
    labels from the host), but every class-aware NMS program compiles it: so ``lax.cumsum``
    and the radix sort, which compile in less than half the time of an associative scan and
    a binary search (commit log)."""
    batch, n = keys.shape
    pos = order_radix(keys)
    srt = jnp.take_along_axis(keys, pos, axis=1)
    new = jnp.concatenate([jnp.zeros((batch, 1), bool), srt[:, 1:] != srt[:, :-1]], axis=1)
    rank = lax.cumsum(new.astype(jnp.int32), axis=1)
    rows = jnp.arange(batch)[:, None]
    return jnp.zeros((batch, n), jnp.int32).at[rows, pos].set(rank, unique_indices=True)


def segments(order: jax.Array, classes: jax.Array, cand: jax.Array):
    """The boxes of each image in (candidate, class, visiting) order and their segments.

    ``order`` (B, N) is the visiting order (:func:`jaximpl._order.score_order`), ``classes``
    and ``cand`` (B, N) -> ``idx`` (B, N) int32 original index at each position, ``pos``
    (B, N) position within its segment, ``size`` (B, N) its segment's size, ``first`` (B, N)
    bool the first box of a candidate segment.

    One int32 sort: ``class rank << b | visiting position`` with ``b`` bits for a position
    (the class rank of a non-candidate is ``N``: after every class), for ``N <= 2**15``;
    larger images sort (candidate, class, position) triples, several times slower. The
    segments' bounds come from :func:`run_bounds`, no scan over the boxes.
    """
    batch, n = order.shape
    iota = lax.broadcasted_iota(jnp.int32, (batch, n), 1)
    rows = jnp.arange(batch)[:, None]
    visit = jnp.zeros((batch, n), jnp.int32).at[rows, order].set(iota, unique_indices=True)
    bits = max((n - 1).bit_length(), 1)
    if 2 * bits + 1 <= 31:
        keys = class_keys(classes)
        low = jnp.min(jnp.where(cand, keys, jnp.iinfo(jnp.int32).max), axis=1, keepdims=True)
        rel = lax.bitcast_convert_type(keys - low, jnp.uint32)  # exact: two's complement
        # Labels spanning fewer than N values (0..79) are their own ranks, less the smallest.
        seg = lax.cond(
            jnp.all(jnp.where(cand, rel, 0) < n),
            lambda: lax.bitcast_convert_type(rel, jnp.int32),
            lambda: dense_ranks(keys),
        )
        seg = jnp.where(cand, seg, n)
        key = jnp.sort((seg << bits) | visit, axis=1)
        seg, idx = key >> bits, jnp.take_along_axis(order, key & ((1 << bits) - 1), axis=1)
        runs = n + 1  # seg is a run's number already: a class rank, or N
    else:
        seg, _, idx = lax.sort(
            ((~cand).astype(jnp.int32), class_keys(classes), visit, iota),
            dimension=1,
            num_keys=3,
        )[1:]
        seg = jnp.where(jnp.take_along_axis(cand, idx, axis=1), seg, jnp.iinfo(jnp.int32).max)
        # Class keys are any int32: number the runs of equal ones 0, 1, ...
        new = jnp.concatenate([jnp.ones((batch, 1), bool), seg[:, 1:] != seg[:, :-1]], axis=1)
        seg, runs = cumsum(new.astype(jnp.int32), axis=1) - 1, n
    start, end = run_bounds(seg, runs)
    real = jnp.take_along_axis(cand, idx, axis=1)
    return idx, iota - start, end - start + 1, (iota == start) & real


def run_bounds(run: jax.Array, runs: int) -> tuple[jax.Array, jax.Array]:
    """The first and last position of each position's run: ``(B, N)`` int32 -> two ``(B, N)``.

    ``run`` is non-decreasing along each row, with values in ``[0, runs)``: equal values are
    one run. Two scatters into a ``(B, runs)`` table (the smallest and the largest position
    of each value) and two gathers, O(N): as fast as a cumulative maximum and a reversed
    minimum, or faster, and they compile in a fraction of those scans' time (commit log).
    """
    batch, n = run.shape
    rows = jnp.arange(batch)[:, None]
    iota = lax.broadcasted_iota(jnp.int32, run.shape, 1)
    first = jnp.full((batch, runs), n, jnp.int32).at[rows, run].min(iota)
    last = jnp.zeros((batch, runs), jnp.int32).at[rows, run].max(iota)
    return jnp.take_along_axis(first, run, axis=1), jnp.take_along_axis(last, run, axis=1)
