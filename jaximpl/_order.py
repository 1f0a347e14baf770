"""The NMS visiting order: indices by descending score, ties by ascending index, NaN last.

float32 scores become int32 keys (:func:`descending_key`). Rows of up to
``SMALL_N`` scores sort (key, index) pairs (:func:`order_pairs`). Longer rows
avoid that sort: XLA:CPU sorts one int32 array several times faster than keys
with an index payload (it compares those through a called function). Rows of
up to ``PACK_MAX_N`` scores go through :func:`order_packed` (keys and indices
packed into one int32), longer rows, rows with long runs of nearly equal
scores and the shape buckets of the eager NMS (``n_valid`` given: a little
slower to run, several times faster to compile) through :func:`order_radix`.
All give the same order, in O(N log N), whatever the ties.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

# Rows of at most this many scores sort (key, index) pairs: as fast as the packed sort at 300
# scores (slower at 512), and the NMS then compiles in half the time (git log -S SMALL_N).
SMALL_N = 300
# Rows of at most this many scores take the packed sort: 14 bits of index, 17 of coarse key.
PACK_MAX_N = 1 << 14
# The longest run of equal coarse keys the packed sort puts in order (longer: the radix sort);
# the longest runs measured on the benchmark workloads were 2 to 4 (commit 63470ad).
PACK_RUN = 8


def descending_key(scores: jax.Array) -> jax.Array:
    """int32 keys whose ascending order is descending score, NaN last, ``-0.0 == 0.0``."""
    s = jnp.where(scores == 0, jnp.zeros_like(scores), scores).astype(jnp.float32)
    bits = lax.bitcast_convert_type(s, jnp.int32)
    # Order-preserving map of float bits to int32 (flip the magnitude of negatives).
    key = jnp.where(bits >= 0, bits, bits ^ jnp.int32(0x7FFFFFFF))
    key = jnp.where(jnp.isnan(s), jnp.iinfo(jnp.int32).min, key)
    return ~key  # ~k = -k - 1: reverses the order without overflow; NaN -> INT32_MAX


def score_order(scores: jax.Array, n_valid: jax.Array | None = None) -> jax.Array:
    """Indices by descending score, ties by ascending index, NaN last: ``(..., N) -> (..., N)``.

    ``-0.0`` and ``0.0`` are equal scores. float64 scores (x64 enabled) take one
    exact stable sort; float32 ones the int32 keys of :func:`descending_key`.

    ``n_valid`` (an int32 scalar, may be traced): only the first ``n_valid``
    scores of each row are real, the rest is padding (a shape bucket,
    :mod:`jaximpl._buckets`). The padding comes last, in index order, whatever
    its values, and the real scores are ordered as without it.
    """
    n = scores.shape[-1]
    if n == 0:
        return jnp.zeros(scores.shape, jnp.int32)
    iota = lax.broadcasted_iota(jnp.int32, scores.shape, scores.ndim - 1)
    if scores.dtype != jnp.float32:
        # float64 (x64 enabled): the exact stable sort (NaN last, -0.0 == 0.0).
        nan = jnp.isnan(scores)
        key = jnp.where(nan | (scores == 0), 0, -scores)
        last = nan.astype(jnp.int32) if n_valid is None else jnp.where(iota < n_valid, nan, 2)
        return lax.sort((last.astype(jnp.int32), key, iota), num_keys=3)[2]
    key = descending_key(scores.reshape(-1, n))  # (R, N): one row per image
    if n_valid is not None:
        # The padding takes the largest real key: after every real score (ties go to the
        # lower index), and the key range (the packed sort's resolution) is the real one's.
        real = iota.reshape(-1, n) < n_valid
        top = jnp.max(jnp.where(real, key, jnp.iinfo(jnp.int32).min), axis=1, keepdims=True)
        key = jnp.where(real, key, top)
    if n <= SMALL_N:
        order = order_pairs(key)
    elif n_valid is None and n <= PACK_MAX_N:
        order = order_packed(key)
    else:  # buckets (cheap to compile for each size) and long rows
        order = order_radix(key)
    return order.reshape(scores.shape)


def order_pairs(key: jax.Array) -> jax.Array:
    """Ascending ``(key, index)`` order of each row: ``(R, N)`` int32 keys -> ``(R, N)`` int32.

    One sort of (key, index) pairs, O(N log N).
    """
    iota = lax.broadcasted_iota(jnp.int32, key.shape, 1)
    return lax.sort((key, iota), dimension=1, num_keys=2)[1]


def split_key(key: jax.Array, bits: int) -> tuple[jax.Array, jax.Array]:
    """``key - row min`` as a *coarse* part of ``31 - bits`` bits and the *fine* rest.

    ``(R, N)`` int32 keys -> ``coarse = (key - min) >> s`` and ``fine`` its ``s`` low
    bits, ``s`` the smallest shift that fits (``s <= bits + 1``); both ``(R, N)`` int32,
    non-negative, and ``(coarse, fine)`` orders as the key does.
    """
    rel = lax.bitcast_convert_type(key - jnp.min(key, axis=1, keepdims=True), jnp.uint32)
    width = 32 - lax.clz(jnp.max(rel, axis=1, keepdims=True)).astype(jnp.int32)
    shift = jnp.maximum(width - (31 - bits), 0).astype(jnp.uint32)  # s <= b + 1
    coarse = lax.bitcast_convert_type(rel >> shift, jnp.int32)  # < 2^(31 - b)
    fine = lax.bitcast_convert_type(rel & ((jnp.uint32(1) << shift) - 1), jnp.int32)
    return coarse, fine


def radix_passes(n: int) -> tuple[int, int]:
    """``(b, d)`` for rows of ``n`` keys: ``b = bit_length(n - 1)`` bits for an index, and
    the ``d = 31 - b`` bits of a key each int32 sort of :func:`order_radix` can take beside
    it; ``ceil(32 / d)`` sorts in all: 2 for ``n <= 2^15``, 3 up to ``2^20``."""
    bits = (n - 1).bit_length()
    return bits, 31 - bits


def order_radix(key: jax.Array) -> jax.Array:
    """Ascending ``(key, index)`` order of each row: ``(R, N)`` int32 keys -> ``(R, N)`` int32.

    A least-significant-digit radix sort of ``key - row min`` (32 bits) in digits of ``d``
    bits (:func:`radix_passes`), one int32 sort per digit: the first sorts ``digit << b |
    index``, each later one ``digit << b | position in the order so far``. No two sorted
    values are equal, so each sort is stable by construction, and the result is ordered by
    (key, index) exactly, whatever the ties: no runs to fix, no fallback, no slow case (the
    rank search it replaced took one O(N) pass per member of the largest group of equal
    scores: the commit log has the measurements). Each sort is O(N log N); about 1.5x the
    time of :func:`order_packed` on distinct scores, and it compiles in a fraction of its
    time.
    """
    bits, digit = radix_passes(key.shape[1])
    rel = lax.bitcast_convert_type(key - jnp.min(key, axis=1, keepdims=True), jnp.uint32)
    iota = lax.broadcasted_iota(jnp.int32, key.shape, 1)
    index_bits = (1 << bits) - 1
    order = None
    for shift in range(0, 32, digit):
        part = (rel >> shift) & ((1 << min(digit, 32 - shift)) - 1)
        part = lax.bitcast_convert_type(part, jnp.int32)
        if order is not None:
            part = jnp.take_along_axis(part, order, axis=1)
        step = jnp.sort((part << bits) | iota, axis=1) & index_bits
        order = step if order is None else jnp.take_along_axis(order, step, axis=1)
    return order


def order_packed(key: jax.Array) -> jax.Array:
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
    with a longer run (many nearly equal scores) takes :func:`order_radix`.
    O(N log N) for the sort, O(N) per pass.
    """
    rows, n = key.shape
    bits = (n - 1).bit_length()
    coarse, fine = split_key(key, bits)
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

    def two_passes(state):
        fine, _, done = state
        fine, even = compare_swap(run, fine, 0, run.shape[1])
        fine, odd = compare_swap(run, fine, 1, run.shape[1] - 1)
        return fine, even | odd, done + 2

    def in_runs(fine):
        state = (fine, jnp.bool_(True), jnp.int32(0))
        fine = lax.while_loop(lambda s: s[1] & (s[2] < passes), two_passes, state)[0]
        return fine[:, :n] & index_bits

    return lax.cond(longer[PACK_RUN], lambda _: order_radix(key), in_runs, fine)


def compare_swap(run: jax.Array, fine: jax.Array, lo: int, hi: int) -> tuple[jax.Array, jax.Array]:
    """One odd-even transposition pass: the pairs ``(p, p + 1)`` for ``p = lo, lo + 2, ... < hi``.

    ``run``, ``fine`` ``(R, M)``: a pair is swapped where both are in one run
    (equal ``run``) and out of order (``fine[p + 1] < fine[p]``). Returns the
    new ``fine`` and whether anything was swapped.
    """
    rows = run.shape[0]
    r = run[:, lo:hi].reshape(rows, -1, 2)
    f = fine[:, lo:hi].reshape(rows, -1, 2)
    swap = (r[..., 0] == r[..., 1]) & (f[..., 1] < f[..., 0])
    f = jnp.stack(
        [jnp.where(swap, f[..., 1], f[..., 0]), jnp.where(swap, f[..., 0], f[..., 1])], -1
    ).reshape(rows, hi - lo)
    return jnp.concatenate([fine[:, :lo], f, fine[:, hi:]], axis=1), jnp.any(swap)
