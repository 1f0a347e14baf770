"""Non-maximum suppression (static-shape and eager) and the detection post-processing.

The NMS is tiled and batched: every image of a batch advances through the same
loop (one image is a batch of one). Boxes are visited in ``(-score, index)``
order, ``T`` at a time. Kept boxes are appended, in selection order, to a
compact buffer per image. For a tile:

1. *cross*: every box of the tile that has IoU ``> t`` with a kept box of an
   earlier tile is suppressed. Only the kept boxes are visited, ``C`` at a
   time (``(B, C, T)`` blocks of IoUs), stopping once the whole tile is
   suppressed, so the work follows the number of kept boxes ``K``. Most boxes
   are suppressed by one of the first kept boxes: as soon as no image has more
   than ``T / 2`` boxes of the tile left, those are gathered into ``T / 2``
   slots and the scan goes on with blocks half as wide (down to ``NARROWEST``);
2. *self* (only where some image has two or more candidates left): the
   candidates are resolved against each other: with
   ``S[j, k] = IoU(j, k) > t`` for ``j < k`` in the tile,
   ``keep <- candidates & ~any_j(S[j, :] & keep[j])`` is iterated to a fixed
   point. Box ``k``'s decision depends only on the boxes before it, so after
   ``n`` iterations the first ``n`` decisions are final and the fixed point is
   unique: it is the greedy answer (chains A -> B -> C keep C). It is reached
   after at most (longest suppression chain + 1) iterations. When no image has
   more than ``SELF_SLOTS`` candidates (most tiles), they are gathered first,
   so the step costs ``SELF_SLOTS^2`` IoUs per image instead of ``T^2``;
3. the kept boxes of the tile are appended to the buffers.

The loop stops early once every image has kept ``max_output_size`` boxes. The
visiting order comes from sorting one int32 key per box (see
:func:`_score_order`).

Rules inside ``jit`` (no value checks there): NaN scores are visited last
(after ``-inf``), in index order; ``-0.0`` and ``0.0`` are equal scores. A box
with a NaN coordinate has IoU 0 with everything (see :func:`box_iou`), so it
never suppresses and is never suppressed: it is kept. Inverted boxes
(``x2 < x1``) go through the IoU formula as is.
"""

from __future__ import annotations

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
# Kept boxes per block of the cross step (2-core CPU, detection benchmark: 32
# and 64 within noise of each other with the OR form of _any_rows, 16 slower;
# with jnp.any, XLA:CPU split reductions longer than 32 rows in two, 2x slower).
CHUNK = 32
# The cross step gathers the boxes of a tile that are left into half as many
# slots each time no image has more left, down to this many (a 2-core CPU A/B
# on the detection benchmark: 32 about 6% faster than no narrowing or 16).
NARROWEST = 32
# Candidates per image the self step gathers when no image has more (A/B on the
# detection benchmark: 16 about 25% faster than 8 or 32 for the whole NMS).
SELF_SLOTS = 16
# _score_order's packed sort: rows of at most PACK_MAX_N scores (14 bits of
# index, 17 of coarse key) and runs of nearly equal scores (equal coarse keys) of
# at most PACK_RUN boxes. The longest runs measured: 4 on the detection
# benchmark (5,120 scores a row), 2 and 3 for 1,000 and 5,000 uniform scores.
PACK_MAX_N = 1 << 14
PACK_RUN = 8
# Accelerators run each loop iteration as a kernel launch: bigger blocks there
# (not measured in this project yet).
_ACCELERATOR_TILE, _ACCELERATOR_CHUNK = 256, 256


# XLA:CPU compiles for 256-bit vectors unless told otherwise, also where the CPU
# has AVX-512. Asking for 512 made the NMS 5-13% faster on the benchmark
# workloads (uniform boxes; clustered ones within noise) and multibox_detection
# about 7% (2-core AMD EPYC with AVX-512, same process, paired runs), outputs
# bit-identical. A hint: CPUs with narrower vectors and other backends ignore it.
# It applies to this module's own jitted entry points; pass the same
# ``compiler_options`` to a ``jax.jit`` of your own to get it there.
COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


def _jit_pair(fun, **kwargs):
    """``fun`` jitted with :data:`COMPILER_OPTIONS`, and plainly (for :func:`_call`)."""
    return jax.jit(fun, compiler_options=COMPILER_OPTIONS, **kwargs), jax.jit(fun, **kwargs)


def _call(pair, *args, **static):
    """Call the jitted ``pair`` from :func:`_jit_pair` on ``args``.

    The options are for XLA:CPU, and JAX takes compiler options on a
    top-level ``jit`` only: on other backends, and inside a caller's trace
    (``jit``, ``vmap``, ...), the plain one runs (the caller's ``jit`` compiles
    it with its own options).
    """
    with_options, plain = pair
    if jax.default_backend() == "cpu" and all(v.is_concrete(a) for a in args):
        return with_options(*args, **static)
    return plain(*args, **static)


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

    float32 scores become int32 keys (:func:`_descending_key`): XLA:CPU sorts one
    int32 array several times faster than keys with an index payload (it compares
    those through a called function). Up to ``PACK_MAX_N`` scores per row,
    :func:`_order_packed` sorts keys and indices packed into one int32; longer
    rows, and rows with many nearly equal scores, go through
    :func:`_order_by_rank`. Both are O(N log N) and give the same order.
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
    key = _descending_key(scores.reshape(-1, n))  # (R, N): one row per image
    order = _order_packed(key) if 1 < n <= PACK_MAX_N else _order_by_rank(key)
    return order.reshape(scores.shape)


def _order_packed(key: jax.Array) -> jax.Array:
    """Ascending ``(key, index)`` order of each row: ``(R, N)`` int32 keys -> ``(R, N)`` int32.

    With ``b = bit_length(N - 1)`` bits for the index, ``31 - b`` bits are left
    for the key: its *coarse* part ``(key - row min) >> s``, the smallest ``s``
    that fits, a non-decreasing map of the key. One int32 sort of
    ``coarse << b | index`` orders the boxes by (coarse key, index), which is
    the answer except inside *runs* of boxes with equal coarse keys (keys less
    than ``2^s`` apart). A run is put in order by its *fine* parts (the ``s``
    low bits, then the index, packed into one int32): odd-even transposition
    passes that compare-swap neighbours of the same run, until a pair of passes
    swaps nothing or as many passes as the longest run (at most ``PACK_RUN``;
    measured over the whole batch, so no row stops early) have run. A batch
    with a longer run (many nearly equal scores) takes :func:`_order_by_rank`.
    O(N log N) for the sort, O(N) per pass.
    """
    rows, n = key.shape
    bits = (n - 1).bit_length()
    rel = lax.bitcast_convert_type(key - jnp.min(key, axis=1, keepdims=True), jnp.uint32)
    width = 32 - lax.clz(jnp.max(rel, axis=1, keepdims=True)).astype(jnp.int32)
    shift = jnp.maximum(width - (31 - bits), 0).astype(jnp.uint32)  # s <= b + 1
    coarse = lax.bitcast_convert_type(rel >> shift, jnp.int32)  # < 2^(31 - b)
    fine = lax.bitcast_convert_type(rel & ((jnp.uint32(1) << shift) - 1), jnp.int32)
    iota = lax.broadcasted_iota(jnp.int32, key.shape, 1)
    packed = jnp.sort((coarse << bits) | iota, axis=1)
    index_bits = (1 << bits) - 1
    run = packed >> bits  # the coarse key at each position
    # Within a run: fine key, then index (< 2^(2b + 1) <= 2^29 for N <= 2^14).
    fine = (jnp.take_along_axis(fine, packed & index_bits, axis=1) << bits) | (packed & index_bits)
    if n % 2:  # whole pairs; the extra slot is a run of its own (-1)
        run = jnp.pad(run, ((0, 0), (0, 1)), constant_values=-1)
        fine = jnp.pad(fine, ((0, 0), (0, 1)))
    # A run of L boxes is in order after L passes: a bound on the longest run
    # (positions p and p + k in one run: longer than k).
    longer = {k: jnp.any(run[:, k:] == run[:, :-k]) for k in (1, 2, 4, PACK_RUN)}
    passes = jnp.select([longer[4], longer[2], longer[1]], [PACK_RUN, 4, 2], 0)

    def compare_swap(fine, lo, hi):
        """One pass over the pairs ``(p, p + 1)`` for even ``p`` in ``[lo, hi)``."""
        r = run[:, lo:hi].reshape(rows, -1, 2)
        f = fine[:, lo:hi].reshape(rows, -1, 2)
        swap = (r[..., 0] == r[..., 1]) & (f[..., 1] < f[..., 0])
        f = jnp.stack(
            [jnp.where(swap, f[..., 1], f[..., 0]), jnp.where(swap, f[..., 0], f[..., 1])], -1
        ).reshape(rows, hi - lo)
        return jnp.concatenate([fine[:, :lo], f, fine[:, hi:]], axis=1), jnp.any(swap)

    def two_passes(state):
        fine, _, done = state
        fine, even = compare_swap(fine, 0, run.shape[1])
        fine, odd = compare_swap(fine, 1, run.shape[1] - 1)
        return fine, even | odd, done + 2

    def in_runs(fine):
        state = (fine, jnp.bool_(True), jnp.int32(0))
        fine = lax.while_loop(lambda s: s[1] & (s[2] < passes), two_passes, state)[0]
        return fine[:, :n] & index_bits

    return lax.cond(longer[PACK_RUN], lambda _: _order_by_rank(key), in_runs, fine)


def _order_by_rank(key: jax.Array) -> jax.Array:
    """Ascending ``(key, index)`` order of each row: ``(R, N)`` int32 keys -> ``(R, N)`` int32.

    The keys are sorted alone and each element finds its rank by binary search
    (O(N log N)). Equal keys share a first rank; they then take consecutive
    slots in index order: each pass, every unplaced element bids for its next
    slot and the lowest index wins it (a scatter-min), so the passes are as
    many as the largest group of equal keys (1 when all keys differ).
    """
    rows, n = key.shape
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
    return table.reshape(rows, n) - offset


def _overlaps(
    a: jax.Array, area_a: jax.Array, b: jax.Array, area_b: jax.Array, t: jax.Array
) -> jax.Array:
    """``IoU > t`` for coordinate-major boxes: ``(..., 4, P), (..., P), (..., 4, Q), (..., Q), ()``.

    Returns ``(..., P, Q)`` bool. For ``union > 0``,
    ``inter / union > t`` is ``inter > t * union``: no division, and exact where
    ``t * union`` is (a dyadic threshold on lattice boxes: the same decisions as
    the rounded IoU there, see CONTRACT.md, "Exactness"). ``union <= 0`` and NaN
    give False (IoU 0).
    """
    left = jnp.maximum(a[..., 0, :, None], b[..., 0, None, :])
    top = jnp.maximum(a[..., 1, :, None], b[..., 1, None, :])
    right = jnp.minimum(a[..., 2, :, None], b[..., 2, None, :])
    bottom = jnp.minimum(a[..., 3, :, None], b[..., 3, None, :])
    inter = jnp.maximum(right - left, 0) * jnp.maximum(bottom - top, 0)
    union = area_a[..., :, None] + area_b[..., None, :] - inter
    return (union > 0) & (inter > t * union)


def _any_rows(mask: jax.Array) -> jax.Array:
    """``jnp.any(mask, axis=1)`` for ``(B, C, W)``, as ``C - 1`` elementwise ORs.

    XLA:CPU writes the ``(B, C, W)`` mask, then ORs its rows in one loop
    vectorised along ``W``: with the division-free test of :func:`_overlaps`,
    about 5% off the detection benchmark against its reduction.
    """
    out = mask[:, 0]
    for c in range(1, mask.shape[1]):
        out = out | mask[:, c]
    return out


def _count_so_far(mask: jax.Array) -> jax.Array:
    """``jnp.cumsum(mask, axis=1)`` for a short ``(B, W)`` bool mask, as a product with an
    upper-triangular ``(W, W)`` matrix of ones: exact (sums of at most ``W`` ones), and one
    small matrix product on XLA:CPU where its cumsum is a slower reduce-window."""
    w = mask.shape[1]
    upper = (jnp.arange(w)[:, None] <= jnp.arange(w)[None, :]).astype(jnp.float32)
    total = jnp.dot(mask.astype(jnp.float32), upper, precision=lax.Precision.HIGHEST)
    return total.astype(jnp.int32)


def _compact(mask: jax.Array, values: jax.Array, width: int, fill: int) -> jax.Array:
    """The ``values`` where ``mask``, moved to the front of each row, in order.

    ``(B, W), (B, W) -> (B, width)``, padded with ``fill``; entries past
    ``width`` are dropped (the callers make sure there are none).
    """
    batch = mask.shape[0]
    slot = jnp.where(mask, _count_so_far(mask) - 1, width)
    out = jnp.full((batch, width), fill, values.dtype)
    return out.at[jnp.arange(batch)[:, None], slot].set(values, mode="drop")


def _nms_sorted(
    sorted_boxes: jax.Array,
    order: jax.Array,
    iou_threshold: jax.Array,
    max_output_size: int,
    tile: int,
    chunk: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The tiled NMS of a batch of images whose boxes are already in visiting order.

    ``sorted_boxes`` ``(B, 4, Np)`` coordinate-major, ``Np`` a multiple of ``tile``;
    ``order`` ``(B, Np)`` the original index of each box, -1 for padding. Returns
    ``(B, max_output_size)`` indices and ``(B,)`` counts (see :func:`_nms_core`).

    All images advance together, tile by tile: each step works on ``(B, C, T)``
    blocks, so the loop overhead is shared by the batch and the blocks are large
    enough for XLA to spread them over the CPU cores. An image that has kept
    ``max_output_size`` boxes appends nothing more; the loops stop when every
    image is done.
    """
    dtype = sorted_boxes.dtype
    batch, _, n_pad = sorted_boxes.shape
    num_tiles = n_pad // tile
    t = jnp.asarray(iou_threshold, dtype)
    x1, y1, x2, y2 = (sorted_boxes[:, k] for k in range(4))
    sorted_area = (x2 - x1) * (y2 - y1)
    chunk = min(_default_blocks()[1] if chunk is None else chunk, n_pad)
    # Slot widths of the cross step: tile, tile / 2, ... down to NARROWEST.
    widths = [tile]
    while widths[-1] // 2 >= NARROWEST and widths[-1] % 2 == 0:
        widths.append(widths[-1] // 2)
    # The buffers of kept boxes never need more than max_output_size entries
    # (rounded to whole blocks): an image stops appending once that many are kept.
    size = -(-min(max_output_size, n_pad) // chunk) * chunk
    iota = jnp.arange(tile, dtype=jnp.int32)
    chunk_iota = jnp.arange(chunk, dtype=jnp.int32)
    upper = iota[:, None] < iota[None, :]  # j < k
    rows = jnp.arange(batch)[:, None]
    iota_b = jnp.broadcast_to(iota, (batch, tile))

    def one_tile(state):
        i, num_kept, kept_boxes, kept_area, kept_idx = state
        start = i * tile
        tile_boxes = lax.dynamic_slice_in_dim(sorted_boxes, start, tile, axis=2)  # (B, 4, T)
        tile_area = lax.dynamic_slice_in_dim(sorted_area, start, tile, axis=1)  # (B, T)
        tile_idx = lax.dynamic_slice_in_dim(order, start, tile, axis=1)  # (B, T)
        # Padding, and every box of an image that is already done, is out.
        active = num_kept < max_output_size
        real = (tile_idx >= 0) & active[:, None]
        most_kept = jnp.max(jnp.where(active, num_kept, 0))

        def gather(pos):
            """Boxes, areas and indices at tile positions ``pos`` ``(B, W)`` (``T``: empty)."""
            p = jnp.minimum(pos, tile - 1)
            return (
                jnp.take_along_axis(tile_boxes, p[:, None, :], axis=2),
                jnp.take_along_axis(tile_area, p, axis=1),
                jnp.take_along_axis(tile_idx, p, axis=1),
            )

        def cross(boxes, area, start, sup, more):
            """Suppression of ``boxes`` ``(B, 4, W)`` by the kept boxes from ``start`` on.

            ``sup`` ``(B, W)`` starts True for the slots that are out. Blocks of
            ``C`` kept boxes; runs until the kept boxes run out, every box is
            suppressed, or ``more(sup)`` is False. Returns ``(next start, sup)``.
            """

            def block(state):
                start, sup = state
                kb = lax.dynamic_slice_in_dim(kept_boxes, start, chunk, axis=2)
                ka = lax.dynamic_slice_in_dim(kept_area, start, chunk, axis=1)
                live = start + chunk_iota[None, :] < num_kept[:, None]  # (B, C)
                over = _overlaps(kb, ka, boxes, area, t) & live[:, :, None]
                return start + chunk, sup | _any_rows(over)

            return lax.while_loop(
                lambda s: (s[0] < most_kept) & ~jnp.all(s[1]) & more(s[1]), block, (start, sup)
            )

        def scan(level, start, pos, sup):
            """Candidates ``(B, T)`` of the tile after the cross step, from ``level`` on.

            ``pos`` ``(B, W)``: the tile position of each slot (``T``: empty).
            Once no image has more than ``widths[level + 1]`` boxes left, they
            are gathered into that many slots and the scan goes on with them.
            """
            boxes, area = (tile_boxes, tile_area) if level == 0 else gather(pos)[:2]
            last = level + 1 == len(widths)
            if last:
                more = lambda s: True  # noqa: E731
            else:
                more = lambda s: jnp.max(jnp.sum(~s, axis=1)) > widths[level + 1]  # noqa: E731
            start, sup = cross(boxes, area, start, sup, more)
            left = ~sup
            if level == 0:
                done = left
            else:
                done = (
                    jnp.zeros((batch, tile), bool)
                    .at[rows, jnp.where(left, pos, tile)]
                    .set(True, mode="drop")
                )
            if last:
                return done

            def narrower(args):
                start, pos, left = args
                new_pos = _compact(left, pos, widths[level + 1], tile)
                return scan(level + 1, start, new_pos, new_pos == tile)

            return lax.cond(
                (start < most_kept) & jnp.any(left), narrower, lambda _: done, (start, pos, left)
            )

        cand = scan(0, jnp.int32(0), iota_b, ~real)

        def resolve_and_append(pos, bufs):
            """Self step and append for the boxes at tile positions ``pos`` ``(B, W)``.

            ``pos`` lists each image's candidates in tile order (``T``: empty).
            """
            num_kept, kept_boxes, kept_area, kept_idx = bufs
            w = pos.shape[1]
            cand = pos < tile
            # In place (w == T), pos is the identity where cand: no gather.
            boxes, area, idx = (tile_boxes, tile_area, tile_idx) if w == tile else gather(pos)

            def resolve(cand):
                over = _overlaps(boxes, area, boxes, area, t) & upper[:w, :w]
                over = over & cand[:, :, None]  # only candidates can suppress

                def step(s):
                    keep, _ = s
                    new = cand & ~jnp.any(over & keep[:, :, None], axis=1)
                    return new, jnp.any(new != keep)

                return lax.while_loop(lambda s: s[1], step, (cand, jnp.bool_(True)))[0]

            # A lone candidate is kept: the self step is needed only where some
            # image has two or more.
            keep = lax.cond(jnp.any(jnp.sum(cand, axis=1) > 1), resolve, lambda c: c, cand)
            # Slot `size` is out of range: dropped.
            dest = jnp.where(keep, num_kept[:, None] + _count_so_far(keep) - 1, size)
            kept_boxes = kept_boxes.at[
                rows[:, None], jnp.arange(4)[None, :, None], dest[:, None]
            ].set(boxes, mode="drop")
            kept_area = kept_area.at[rows, dest].set(area, mode="drop")
            kept_idx = kept_idx.at[rows, dest].set(idx, mode="drop")
            num_kept = num_kept + jnp.sum(keep, axis=1, dtype=jnp.int32)
            return num_kept, kept_boxes, kept_area, kept_idx

        bufs = (num_kept, kept_boxes, kept_area, kept_idx)

        # Most tiles have few candidates left in any image: the self step then
        # works on them alone, gathered into SELF_SLOTS slots.
        def in_place(bufs):
            return resolve_and_append(jnp.where(cand, iota_b, tile), bufs)

        if SELF_SLOTS < tile:
            num_kept, kept_boxes, kept_area, kept_idx = lax.cond(
                jnp.max(jnp.sum(cand, axis=1)) <= SELF_SLOTS,
                lambda bufs: resolve_and_append(_compact(cand, iota_b, SELF_SLOTS, tile), bufs),
                in_place,
                bufs,
            )
        else:
            num_kept, kept_boxes, kept_area, kept_idx = in_place(bufs)
        return i + 1, num_kept, kept_boxes, kept_area, kept_idx

    state = (
        jnp.int32(0),
        jnp.zeros((batch,), jnp.int32),
        jnp.zeros((batch, 4, size), dtype),
        jnp.zeros((batch, size), dtype),
        jnp.full((batch, size), -1, jnp.int32),
    )
    state = lax.while_loop(
        lambda s: (s[0] < num_tiles) & jnp.any(s[1] < max_output_size), one_tile, state
    )
    num_kept, kept_idx = state[1], state[4]
    count = jnp.minimum(num_kept, max_output_size)
    if size < max_output_size:
        kept_idx = jnp.pad(kept_idx, ((0, 0), (0, max_output_size - size)), constant_values=-1)
    kept_idx = kept_idx[:, :max_output_size]
    return jnp.where(jnp.arange(max_output_size) < count[:, None], kept_idx, -1), count


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
    ``c``: at most O(N T (c + 1)); gathering the boxes left (see the module
    docstring) lowers the constants, not the bounds. Memory O(N + T^2).
    """
    n = boxes.shape[0]
    if max_output_size == 0:
        return jnp.zeros((0,), jnp.int32), jnp.int32(0)
    if n == 0:
        return jnp.full((max_output_size,), -1, jnp.int32), jnp.int32(0)
    sorted_boxes, order, tile = _prepare(boxes[None], scores[None], tile)
    idx, count = _nms_sorted(sorted_boxes, order, iou_threshold, max_output_size, tile, chunk)
    return idx[0], count[0]


_nms_jit = _jit_pair(_nms_core, static_argnames="max_output_size")


def _keep_mask_core(boxes: jax.Array, scores: jax.Array, iou_threshold: jax.Array) -> jax.Array:
    n = boxes.shape[0]
    idx, _ = _nms_core(boxes, scores, iou_threshold, n)
    return jnp.zeros(n, bool).at[jnp.where(idx >= 0, idx, n)].set(True, mode="drop")


_keep_mask_jit = _jit_pair(_keep_mask_core)


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
    return _call(_nms_jit, b, s, t, max_output_size=k)


def nms_keep_mask(boxes: Any, scores: Any, iou_threshold: float) -> jax.Array:
    """Static-shape NMS as a keep mask: ``(N, 4), (N,) -> (N,)`` bool, True = kept.

    Same decisions, complexity and jitted behaviour as :func:`nms_padded` with
    ``max_output_size = N`` (the selection order is lost). Jittable as it
    stands; raises ``ValueError`` like :func:`nms_padded` when concrete.
    """
    b, s, t = _check_nms_args(boxes, scores, iou_threshold)
    return _call(_keep_mask_jit, b, s, t)


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
    idx, count = _call(_nms_jit, b, s, t, max_output_size=b.shape[0])
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

    # All images advance together (see _nms_sorted): (B, A), (B,).
    keep_idx, count = _nms_sorted(sorted_boxes, order, nms_threshold, num_anchors, tile)
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


_detection_jit = _jit_pair(_detection_core)


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
    out = _call(_detection_jit, probs, offs, anc, nms_t, pos_t)
    if v.is_concrete(out) and out.size and not bool(jnp.all(jnp.isfinite(out))):
        raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out


def nms_padded_jit(
    boxes: jax.Array, scores: jax.Array, iou_threshold: jax.Array, max_output_size: int
) -> tuple[jax.Array, jax.Array]:
    """:func:`nms_padded` without any checks: runs a jitted core (``max_output_size`` static)."""
    return _call(_nms_jit, boxes, scores, iou_threshold, max_output_size=max_output_size)


__all__ = [
    "multibox_detection",
    "nms",
    "nms_keep_mask",
    "nms_padded",
    "nms_padded_jit",
]
