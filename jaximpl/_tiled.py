"""The tiled NMS kernel: a batch of images whose boxes are in visiting order.

Every image of a batch advances through the same loop (one image is a batch of
one). Boxes are visited ``T`` at a time (a *tile*); kept boxes are appended, in
selection order, to a compact buffer per image (:class:`Kept`). For a tile:

1. *cross step* (:func:`cross_step`): every box of the tile that has IoU
   ``> t`` with a kept box of an earlier tile is suppressed. Only the kept boxes
   are visited, ``C`` at a time (``(B, C, T)`` blocks of IoUs), stopping once
   the whole tile is suppressed, so the work follows the number of kept boxes
   ``K``. Most boxes are suppressed by one of the first kept boxes: as soon as no
   image has more than ``T / 2`` boxes of the tile left, those are gathered into
   ``T / 2`` slots and the scan goes on with blocks half as wide (*narrowing*,
   down to ``NARROWEST`` slots);
2. *self step* (:func:`self_step`, where some image has two or more candidates
   left, and on every tile of at most ``SELF_SLOTS`` boxes): with
   ``S[j, k] = IoU(j, k) > t`` for ``j < k`` in the tile,
   ``keep <- candidates & ~any_j(S[j, :] & keep[j])`` is iterated to a fixed
   point. Box ``k``'s decision depends only on the boxes before it, so after
   ``n`` iterations the first ``n`` decisions are final and the fixed point is
   unique: it is the greedy answer (chains A -> B -> C keep C). It is reached
   after at most (longest suppression chain + 1) iterations. When no image has
   more than ``SELF_SLOTS`` candidates (most tiles), they are gathered
   (*compaction*, :func:`jaximpl._blocks.compact`) first, so the step costs ``SELF_SLOTS^2``
   IoUs per image instead of ``T^2``; either way the result is a ``(B, T)``
   mask of the kept boxes (:func:`resolve`);
3. *append* (:func:`append`): the kept boxes of the tile go to the buffers.

A tile the cross step suppresses whole in every image skips steps 2 and 3. One
append for both widths of the self step: the kernel compiles in about a fifth less
time than with an append per width (commit log).

The loop stops early once every image has kept ``max_output_size`` boxes. Boxes that fit
one tile (up to ``T``: the smallest shape bucket, and the short rows of the class-aware NMS)
take the self step alone (:func:`single_tile`): it compiles in about half the time, and
runs no slower (commit log).

Complexity for ``N`` boxes, ``K`` kept: the cross step costs O(T) per pair
(tile, kept box): O(N K) IoUs (at most O(N^2); with the early exit,
O(N min(K, max_output_size))). The self step costs O(T^2 (c + 1)) per tile with
candidates left, for chains of length ``c``: at most O(N T (c + 1)); narrowing
and compaction lower the constants, not the bounds. Memory O(N + T^2) per image.
No value is checked here: a box with a NaN coordinate has IoU 0 with everything
(:func:`jaximpl._blocks.overlaps`), so it never suppresses and is never suppressed: it is
kept. The block operations the steps are built from are in :mod:`jaximpl._blocks`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ._blocks import Tile, any_rows, compact, count_so_far, gather, overlaps
from ._order import score_order

# Boxes per tile on CPU: larger blocks run several times slower per IoU (commit 45823ce).
TILE = 64
# Kept boxes per block of the cross step: 16 is slower, 32 and 64 the same (commit 5167dce).
CHUNK = 32
# The narrowest slot width of the cross step: 32 beat no narrowing and 16 (commit 61e6e40).
NARROWEST = 32
# Candidates per image the self step compacts to: 16 beat 8 and 32 (commit 61e6e40).
SELF_SLOTS = 16
# Accelerators launch a kernel per loop iteration: bigger blocks (not measured yet).
ACCELERATOR_TILE, ACCELERATOR_CHUNK = 256, 256


def default_blocks() -> tuple[int, int]:
    """``(tile, chunk)`` for the default backend."""
    if jax.default_backend() == "cpu":
        return TILE, CHUNK
    return ACCELERATOR_TILE, ACCELERATOR_CHUNK


class Kept(NamedTuple):
    """The kept boxes of each image, in selection order."""

    count: jax.Array  # (B,) int32
    boxes: jax.Array  # (B, 4, S) coordinate-major
    area: jax.Array  # (B, S)
    idx: jax.Array  # (B, S) int32, -1 past count


class Blocks(NamedTuple):
    """The static sizes of one kernel instance: ``T`` boxes per tile, ``C`` kept boxes per
    block of the cross step, its slot widths (``T, T / 2, ...`` down to ``NARROWEST``) and
    the ``S`` entries of the kept-box buffers."""

    tile: int
    chunk: int
    widths: tuple[int, ...]
    size: int


# --------------------------------------------------------------------------- cross step


def cross_scan(
    kept: Kept,
    slots: Tile,
    t: jax.Array,
    start: jax.Array,
    sup: jax.Array,
    most_kept: jax.Array,
    chunk: int,
    narrower: int | None,
) -> tuple[jax.Array, jax.Array]:
    """Suppression of the ``slots`` ``(B, 4, W)`` by the kept boxes from ``start`` on.

    ``sup`` ``(B, W)`` starts True for the slots that are out. Blocks of
    ``chunk`` kept boxes, until the kept boxes run out (``most_kept``), every
    slot is suppressed, or (when ``narrower`` is given) no image has more than
    ``narrower`` slots left. Returns ``(next start, sup)``.
    """
    iota = jnp.arange(chunk, dtype=jnp.int32)

    def go_on(state):
        start, sup = state
        more = (start < most_kept) & ~jnp.all(sup)
        if narrower is not None:
            more = more & (jnp.max(jnp.sum(~sup, axis=1)) > narrower)
        return more

    def block(state):
        start, sup = state
        kb = lax.dynamic_slice_in_dim(kept.boxes, start, chunk, axis=2)
        ka = lax.dynamic_slice_in_dim(kept.area, start, chunk, axis=1)
        live = start + iota[None, :] < kept.count[:, None]  # (B, C)
        over = overlaps(kb, ka, slots.boxes, slots.area, t) & live[:, :, None]
        return start + chunk, sup | any_rows(over)

    return lax.while_loop(go_on, block, (start, sup))


def cross_step(
    tile: Tile,
    kept: Kept,
    t: jax.Array,
    out: jax.Array,
    most_kept: jax.Array,
    blocks: Blocks,
    level: int = 0,
    start: jax.Array | None = None,
    pos: jax.Array | None = None,
) -> jax.Array:
    """The boxes of the tile no kept box suppresses: ``(B, T)`` bool, the candidates.

    ``out`` ``(B, W)`` marks the slots already out; at ``level`` 0 the slots are
    the tile itself, deeper they sit at tile positions ``pos`` ``(B, W)`` (``T``:
    empty) and the kept boxes before ``start`` are done. Once no image has more
    than ``blocks.widths[level + 1]`` slots left, they are compacted into that
    many slots and the scan goes on there (narrowing).
    """
    widths, width = blocks.widths, blocks.tile
    last = level + 1 == len(widths)
    slots = tile if level == 0 else gather(tile, pos)
    start = jnp.int32(0) if start is None else start
    start, sup = cross_scan(
        kept, slots, t, start, out, most_kept, blocks.chunk, None if last else widths[level + 1]
    )
    left = ~sup
    if level == 0:
        done = left
    else:
        rows = jnp.arange(left.shape[0])[:, None]
        done = (
            jnp.zeros((left.shape[0], width), bool)
            .at[rows, jnp.where(left, pos, width)]
            .set(True, mode="drop")
        )
    if last:
        return done
    if pos is None:
        pos = jnp.broadcast_to(jnp.arange(width, dtype=jnp.int32), left.shape)

    def narrower(args):
        start, pos, left = args
        new_pos = compact(left, pos, widths[level + 1], width)
        return cross_step(
            tile, kept, t, new_pos == width, most_kept, blocks, level + 1, start, new_pos
        )

    return lax.cond(
        (start < most_kept) & jnp.any(left), narrower, lambda _: done, (start, pos, left)
    )


# --------------------------------------------------------------------------- self step, append


def self_step(slots: Tile, cand: jax.Array, t: jax.Array) -> jax.Array:
    """Resolve the candidates ``cand`` ``(B, W)`` among themselves: ``(B, W)`` bool, kept.

    The slots are in visiting order. Iterates ``keep <- cand & ~any_j(S[j, :] & keep[j])``
    (``S[j, k]``: ``j < k`` and IoU > t) to its fixed point, the greedy answer.
    """
    w = cand.shape[1]
    iota = jnp.arange(w, dtype=jnp.int32)
    upper = iota[:, None] < iota[None, :]  # j < k
    over = overlaps(slots.boxes, slots.area, slots.boxes, slots.area, t) & upper
    over = over & cand[:, :, None]  # only candidates can suppress

    def step(state):
        keep, _ = state
        new = cand & ~jnp.any(over & keep[:, :, None], axis=1)
        return new, jnp.any(new != keep)

    return lax.while_loop(lambda s: s[1], step, (cand, jnp.bool_(True)))[0]


def append(kept: Kept, slots: Tile, keep: jax.Array, size: int) -> Kept:
    """``kept`` with the slots where ``keep`` ``(B, W)`` appended, in slot order."""
    rows = jnp.arange(keep.shape[0])[:, None]
    # Slot `size` is out of range: dropped.
    dest = jnp.where(keep, kept.count[:, None] + count_so_far(keep) - 1, size)
    return Kept(
        kept.count + jnp.sum(keep, axis=1, dtype=jnp.int32),
        kept.boxes.at[rows[:, None], jnp.arange(4)[None, :, None], dest[:, None]].set(
            slots.boxes, mode="drop"
        ),
        kept.area.at[rows, dest].set(slots.area, mode="drop"),
        kept.idx.at[rows, dest].set(slots.idx, mode="drop"),
    )


def resolve(tile: Tile, pos: jax.Array, t: jax.Array) -> jax.Array:
    """The self step of the candidates at tile positions ``pos`` ``(B, W)``: ``(B, T)``
    bool, kept, in tile positions. ``pos`` lists each image's candidates in tile order
    (``T``: empty)."""
    width = tile.idx.shape[1]
    cand = pos < width
    if pos.shape[1] == width:  # in place: pos is the identity where cand
        return self_step(tile, cand, t)
    # Most tiles leave no image two candidates (nothing to resolve): no self step then.
    keep = lax.cond(
        jnp.any(jnp.sum(cand, axis=1) > 1),
        lambda c: self_step(gather(tile, pos), c, t),
        lambda c: c,
        cand,
    )
    rows = jnp.arange(pos.shape[0])[:, None]
    return jnp.zeros((pos.shape[0], width), bool).at[rows, pos].set(keep, mode="drop")


# --------------------------------------------------------------------------- the loop


def tile_step(tile: Tile, kept: Kept, t: jax.Array, limit: int | jax.Array, blocks: Blocks) -> Kept:
    """Cross step, self step and append for one tile; an image stops at ``limit`` kept."""
    # Padding, and every box of an image that is already done, is out.
    active = kept.count < limit
    real = (tile.idx >= 0) & active[:, None]
    most_kept = jnp.max(jnp.where(active, kept.count, 0))
    cand = cross_step(tile, kept, t, ~real, most_kept, blocks)

    def resolve_and_append(kept: Kept) -> Kept:
        return append(kept, tile, self_keep(tile, cand, t), blocks.size)

    # Tiles the kept boxes suppress whole (most, on clustered boxes) have nothing to do.
    return lax.cond(jnp.any(cand), resolve_and_append, lambda k: k, kept)


def self_keep(tile: Tile, cand: jax.Array, t: jax.Array) -> jax.Array:
    """The self step of the candidates ``cand`` ``(B, T)`` of a tile: ``(B, T)`` bool, kept."""
    width = cand.shape[1]
    iota = jnp.broadcast_to(jnp.arange(width, dtype=jnp.int32), cand.shape)
    if SELF_SLOTS >= width:
        return resolve(tile, jnp.where(cand, iota, width), t)
    # Most tiles have few candidates left in any image: the self step then works on them
    # alone, compacted into SELF_SLOTS slots.
    return lax.cond(
        jnp.max(jnp.sum(cand, axis=1)) <= SELF_SLOTS,
        lambda: resolve(tile, compact(cand, iota, SELF_SLOTS, width), t),
        lambda: resolve(tile, jnp.where(cand, iota, width), t),
    )


def single_tile(
    tile: Tile, t: jax.Array, max_output_size: int, limit: int | jax.Array
) -> tuple[jax.Array, jax.Array]:
    """:func:`nms_sorted` of boxes that fit one tile: no box is kept before it, so there is
    no cross step, no loop and no buffer (a program that compiles in a fraction of the
    time); the first ``max_output_size`` kept boxes, in tile order, and their counts."""
    keep = self_keep(tile, tile.idx >= 0, t)
    rows = jnp.arange(keep.shape[0])[:, None]
    slot = count_so_far(keep) - 1
    dest = jnp.where(keep & (slot < max_output_size), slot, max_output_size)
    kept_idx = jnp.full((keep.shape[0], max_output_size), -1, jnp.int32)
    kept_idx = kept_idx.at[rows, dest].set(tile.idx, mode="drop")
    count = jnp.minimum(jnp.sum(keep, axis=1, dtype=jnp.int32), limit)
    return jnp.where(jnp.arange(max_output_size) < count[:, None], kept_idx, -1), count


def nms_sorted(
    sorted_boxes: jax.Array,
    order: jax.Array,
    iou_threshold: jax.Array,
    max_output_size: int,
    tile: int,
    chunk: int | None = None,
    n_valid: jax.Array | None = None,
    stop: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The tiled NMS of a batch of images whose boxes are already in visiting order.

    ``sorted_boxes`` ``(B, 4, Np)`` coordinate-major, ``Np`` a multiple of ``tile``;
    ``order`` ``(B, Np)`` the original index of each box, -1 for padding. Returns
    ``(B, max_output_size)`` int32 indices (the kept boxes in selection order,
    padded with -1) and ``(B,)`` int32 counts.

    All images advance together, tile by tile: each step works on ``(B, C, T)``
    blocks, so the loop overhead is shared by the batch and the blocks are large
    enough for XLA to spread them over the CPU cores. An image that has kept
    ``max_output_size`` boxes appends nothing more; the loop stops when every
    image is done. ``stop`` (an int32 scalar, may be traced) lowers that limit to
    ``min(stop, max_output_size)`` without a new program: the count and the
    indices past it are those of ``max_output_size = stop``.
    """
    dtype = sorted_boxes.dtype
    batch, _, n_pad = sorted_boxes.shape
    num_tiles = n_pad // tile
    t = jnp.asarray(iou_threshold, dtype)
    x1, y1, x2, y2 = (sorted_boxes[:, k] for k in range(4))
    sorted_area = (x2 - x1) * (y2 - y1)
    limit = max_output_size if stop is None else jnp.minimum(stop, max_output_size)
    if num_tiles == 1:  # nothing kept before the tile (the padding's indices are -1)
        return single_tile(Tile(sorted_boxes, sorted_area, order), t, max_output_size, limit)
    chunk = min(default_blocks()[1] if chunk is None else chunk, n_pad)
    widths = [tile]
    while widths[-1] // 2 >= NARROWEST and widths[-1] % 2 == 0:
        widths.append(widths[-1] // 2)
    # The buffers of kept boxes never need more than max_output_size entries
    # (rounded to whole blocks): an image stops appending once that many are kept.
    size = -(-min(max_output_size, n_pad) // chunk) * chunk
    blocks = Blocks(tile, chunk, tuple(widths), size)

    def one_tile(state):
        i, kept = state
        start = i * tile
        here = Tile(
            lax.dynamic_slice_in_dim(sorted_boxes, start, tile, axis=2),
            lax.dynamic_slice_in_dim(sorted_area, start, tile, axis=1),
            lax.dynamic_slice_in_dim(order, start, tile, axis=1),
        )
        return i + 1, tile_step(here, kept, t, limit, blocks)

    kept = Kept(
        jnp.zeros((batch,), jnp.int32),
        jnp.zeros((batch, 4, size), dtype),
        jnp.zeros((batch, size), dtype),
        jnp.full((batch, size), -1, jnp.int32),
    )
    if n_valid is not None:  # tiles past the real boxes hold only padding
        num_tiles = jnp.minimum(num_tiles, (n_valid + tile - 1) // tile)
    _, kept = lax.while_loop(
        lambda s: (s[0] < num_tiles) & jnp.any(s[1].count < limit),
        one_tile,
        (jnp.int32(0), kept),
    )
    count = jnp.minimum(kept.count, limit)
    kept_idx = kept.idx
    if size < max_output_size:
        kept_idx = jnp.pad(kept_idx, ((0, 0), (0, max_output_size - size)), constant_values=-1)
    kept_idx = kept_idx[:, :max_output_size]
    return jnp.where(jnp.arange(max_output_size) < count[:, None], kept_idx, -1), count


def prepare(
    boxes: jax.Array, scores: jax.Array, tile: int | None, n_valid: jax.Array | None = None
) -> tuple[jax.Array, jax.Array, int]:
    """Visiting order and padded coordinate-major sorted boxes, batched over leading dims.

    ``(..., N, 4), (..., N) -> (..., 4, Np), (..., Np), tile``: the tile is
    ``tile`` (default: :func:`default_blocks`), at most ``N`` rounded up to 8;
    ``Np`` is ``N`` rounded up to whole tiles, the padding has index -1. With
    ``n_valid`` (an int32 scalar, may be traced), the boxes from index ``n_valid``
    on are padding too (a shape bucket): they come last, with index -1.
    """
    n = boxes.shape[-2]
    tile = min(default_blocks()[0] if tile is None else tile, -(-n // 8) * 8)
    n_pad = -(-n // tile) * tile
    order = score_order(scores, n_valid)
    sorted_boxes = jnp.take_along_axis(boxes, order[..., None], axis=-2)
    if n_valid is not None:
        order = jnp.where(order < n_valid, order, -1)
    pad = [(0, 0)] * (boxes.ndim - 2)
    sorted_boxes = jnp.pad(jnp.swapaxes(sorted_boxes, -1, -2), [*pad, (0, 0), (0, n_pad - n)])
    order = jnp.pad(order, [*pad, (0, n_pad - n)], constant_values=-1)
    return sorted_boxes, order, tile
