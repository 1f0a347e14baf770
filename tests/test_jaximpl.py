"""Tests of what only the JAX implementation has.

The contract's rules run against ``jaximpl`` in ``properties/`` (the suite's
default implementation): golden cases, bad input, laws, exact agreement with
the reference, and the jittable forms. They are not repeated here. This file
checks jaximpl's own machinery: the tiled NMS kernel (tiles, blocks, narrowing,
images of a batch finishing apart, the early exit), the packed sort's runs,
the greedy matching's recompute path and its indices beyond 2^24 and 2^31,
``jax.jit`` of the entry points the contract does not ask to be jittable, the
XLA:CPU compile options, every device, dtypes, and what the jitted forms do
with invalid input (their docstrings say it).

Compile budget: every NMS shape costs a compile of seconds, so the NMS tests
share one size (``N_TILES`` boxes, several tiles) and one set of
``max_output_size`` values (``PREFIXES``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaximpl
import reference
from jaximpl._compile import COMPILER_OPTIONS, CpuJit
from jaximpl._order import (
    PACK_MAX_N,
    PACK_RUN,
    SMALL_N,
    descending_key,
    order_packed,
    order_radix,
    radix_passes,
    score_order,
)
from jaximpl._tiled import nms_sorted, prepare
from properties.test_jittable import count_compiles

F32 = np.float32
THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0)
N_TILES = 300  # several tiles of 64 (and 128, 256), the last one partly padding
PREFIXES = (0, 1, 65, N_TILES + 7)  # max_output_size: none, in the first tile, the second, > N


def lattice_boxes(rng: np.random.Generator, n: int, steps: int = 128) -> np.ndarray:
    """``n`` corner boxes with coordinates multiples of 1/64 in [0, steps/64] (exact in float32)."""
    a = rng.integers(0, steps + 1, size=(n, 2, 2)) / 64
    lo, hi = a.min(axis=2), a.max(axis=2)
    return np.stack([lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]], 1).astype(F32)


def random_boxes(rng: np.random.Generator, n: int, lo=0.02, hi=0.3) -> np.ndarray:
    c = rng.uniform(0, 1, (n, 2))
    wh = rng.uniform(lo, hi, (n, 2))
    return np.concatenate([c - wh / 2, c + wh / 2], 1).astype(F32)


def labels_from(rng, boxes: np.ndarray, classes=3) -> np.ndarray:
    cls = rng.integers(0, classes, (len(boxes), 1)).astype(F32)
    return np.concatenate([cls, boxes], 1)


def jit_nms_padded(boxes, scores, t, k):
    return jax.jit(jaximpl.nms_padded, static_argnames="max_output_size")(
        boxes, scores, t, max_output_size=k
    )


# ------------------------------------------------------------------ the tiled NMS


def chain_boxes(n: int) -> np.ndarray:
    """Unit boxes shifted along x by 1/4: long suppression chains across every tile."""
    x = np.arange(n, dtype=F32) * 0.25
    return np.stack([x, np.zeros(n, F32), x + 1, np.ones(n, F32)], 1)


def test_nms_padded_is_prefix_of_nms_across_tiles():
    """``nms`` equals the reference and ``nms_padded(k)`` is its first ``k`` entries, on
    several tiles: chains across tile boundaries (sorted and shuffled input) and random
    overlaps, at every dyadic threshold; ``k`` stops the loop early (1: first tile; 65:
    second tile), at the kept count exactly, or exceeds ``N``; one ``k`` also jitted."""
    rng = np.random.default_rng(4)
    chain = chain_boxes(N_TILES)
    perm = rng.permutation(N_TILES)
    problems = {
        "chain": (chain, np.linspace(1, 0, N_TILES, dtype=F32)),
        "shuffled chain": (chain[perm], np.linspace(1, 0, N_TILES, dtype=F32)[perm]),
        "random": (random_boxes(rng, N_TILES, 0.05, 0.3), rng.random(N_TILES).astype(F32)),
    }
    exact_k = None
    for name, (boxes, scores) in problems.items():
        for t in THRESHOLDS:
            expected = reference.nms(boxes, scores, t)
            full = np.asarray(jaximpl.nms(boxes, scores, t))
            assert np.array_equal(full, expected), (name, t)
            exact_k = len(expected) if exact_k is None else exact_k
            for k in sorted({*PREFIXES, exact_k}):
                idx, count = jaximpl.nms_padded(boxes, scores, t, k)
                assert idx.shape == (k,) and idx.dtype == jnp.int32 and count.dtype == jnp.int32
                m = min(k, len(expected))
                assert int(count) == m, (name, t, k)
                assert np.array_equal(np.asarray(idx)[:m], expected[:m]), (name, t, k)
                assert (np.asarray(idx)[m:] == -1).all(), (name, t, k)
            idx_j, count_j = jit_nms_padded(boxes, scores, t, 65)
            assert np.array_equal(np.asarray(idx_j)[: int(count_j)], expected[:65]), (name, t)


_sorted_jit = jax.jit(nms_sorted, static_argnums=(3, 4, 5))
_prepare_jit = jax.jit(prepare, static_argnums=(2,))

# (tile, chunk, max_output_size). 64/32: the CPU default (narrows 64 -> 32 slots, self step
# compacted to 16), with the kept-box buffers of three static sizes; 128/16 narrows twice;
# 256/256: the accelerators' (narrows three times); 32/16: no narrowing; 16/8 and 8/8: neither
# narrowing nor compaction. Besides the default, each runs at N_TILES with a traced `stop`
# of N_TILES, 7 and 40 (one program for the three limits).
CPU_BLOCKS = (64, 32)
KERNELS = [
    *[(*CPU_BLOCKS, k) for k in (7, 40, N_TILES)],
    *[(tile, chunk, N_TILES) for tile, chunk in ((128, 16), (16, 8), (8, 8), (32, 16), (256, 256))],
]
STOPS = (N_TILES, 7, 40)


@pytest.mark.parametrize("tile, chunk, k", KERNELS, ids=[f"T{t}-C{c}-k{k}" for t, c, k in KERNELS])
def test_tiled_kernel_blocks_and_images_finishing_apart(tile, chunk, k):
    """``nms_sorted`` on a batch of three images: each row is that image's own NMS (the
    reference's first ``k`` kept, or ``stop``) whatever its neighbours, for every block size,
    also when one image reaches its limit tiles before another (it must stop appending while
    the others go on)."""
    rng = np.random.default_rng(11)
    n = N_TILES
    # Kept counts far apart, so the images reach k tiles apart: the unit box nudged by
    # multiples of 1/64 (few kept), lattice boxes (some), zero-width boxes (IoU 0 with
    # everything: all kept, k reached first).
    nudged = (np.array([0, 0, 1, 1]) + rng.integers(0, 5, (n, 4)) / 64).astype(F32)
    flat = lattice_boxes(rng, n, 64)
    flat[:, 2] = flat[:, 0]
    images = [nudged, lattice_boxes(rng, n, 64), flat]
    scores = [(rng.integers(0, 40, n) / 8).astype(F32) for _ in images]  # many ties
    expected = [reference.nms(b, s, 0.25) for b, s in zip(images, scores, strict=True)]
    assert len(expected[0]) < 7 < 40 < len(expected[1]) < len(expected[2]) == n
    sorted_boxes, order, t = _prepare_jit(jnp.asarray(np.stack(images)), np.stack(scores), tile)
    assert t == tile
    for stop in (None,) if (tile, chunk) == CPU_BLOCKS else STOPS:
        limit = k if stop is None else stop
        stop_arg = None if stop is None else jnp.int32(stop)
        args = (sorted_boxes, order, jnp.float32(0.25), k, tile, chunk, None, stop_arg)
        idx, count = jax.device_get(_sorted_jit(*args))
        for b in range(3):
            want = expected[b][:limit]
            got = idx[b]
            assert int(count[b]) == len(want), (b, stop)
            assert np.array_equal(got[: len(want)], want), (b, stop)
            assert np.all(got[len(want) :] == -1), (b, stop)


def test_greedy_recompute_when_columns_share_best_anchor():
    # All ground truths identical: every round removes the shared best anchor,
    # forcing recomputation of every remaining column (more than 8 at once).
    rng = np.random.default_rng(10)
    anchors = lattice_boxes(rng, 60, 32)
    gt = np.repeat(lattice_boxes(rng, 1, 32), 20, axis=0)
    for t in (0.0, 0.5, 1.0):
        expected = reference.assign_anchor_to_bbox(gt, anchors, iou_threshold=t)
        got = jaximpl.assign_anchor_to_bbox(gt, anchors, iou_threshold=t)
        assert got.dtype == jnp.int32 and np.array_equal(np.asarray(got), expected)


# ------------------------------------------------------------------ the visiting order


def visiting_order(scores: np.ndarray) -> np.ndarray:
    """The contract's NMS visiting order, spelled out: descending score, ties by ascending
    index, NaN last; ``-0.0 == 0.0``."""
    s = np.asarray(scores, np.float64)
    key = [(bool(np.isnan(v)), 0.0 if np.isnan(v) else -v, i) for i, v in enumerate(s)]
    return np.array([k[2] for k in sorted(key)], np.int32)


def near_ties(rng: np.random.Generator, groups: list[int]) -> np.ndarray:
    """float32 scores in groups of consecutive floats (a few ulps apart, some equal), at
    random positions, plus 1.0 and 1e-30: the key range is then wide enough that the
    packed sort's coarse key drops about 8 low bits, so each group is a run of equal coarse
    keys whose order comes from the fine bits."""
    values = [F32(1.0), F32(1e-30)]
    for g in groups:
        v = F32(rng.uniform(0.01, 0.9))
        for _ in range(g):
            values.append(v)
            if rng.random() < 0.7:  # else an exact tie with the next one
                v = np.nextafter(v, F32(2), dtype=F32)
    out = np.array(values, F32)
    return out[rng.permutation(len(out))]


@jax.jit
def all_orders(scores: jax.Array) -> jax.Array:
    """``score_order`` and, on the same keys, the packed sort and the radix sort (which
    ``score_order`` takes only for rows longer than ``SMALL_N``): ``(3, R, N)``."""
    key = descending_key(scores.reshape(-1, scores.shape[-1]))
    return jnp.stack([score_order(scores), order_packed(key), order_radix(key)])


RUNS_GROUPS = [[1] * 40, [2] * 30, [3, 4] * 12, [5, 6, 7, 8] * 6, [12, 3, 2]]
RUNS_LENGTH = 157  # the longest list's rows: 156 scores in runs, 1.0 and 1e-30, less one


@pytest.mark.parametrize("groups", RUNS_GROUPS)
@pytest.mark.parametrize("extra", [0, 1])  # even and odd row lengths
def test_score_order_runs_of_nearly_equal_scores(groups, extra):
    """``score_order`` (the sort behind every NMS), the packed sort and the radix sort are
    the contract's visiting order when many scores differ in the last bits only: runs of up
    to ``PACK_RUN`` boxes are fixed by the packed sort's passes, longer ones (12) by its
    fallback to the radix sort. Three rows at once; plus NaN, signed zeros, exact ties."""
    assert max(groups) <= PACK_RUN or max(groups) == 12
    rng = np.random.default_rng(sum(groups) + extra)
    rows = [near_ties(rng, groups) for _ in range(3)]
    n = min(len(r) for r in rows) - 1 + extra
    # Every group list in rows of one length (RUNS_LENGTH + extra: one program per parity,
    # not one per list): the rest are fillers far apart (runs of one, so the longest run and
    # the packed sort's passes stay the list's own), above the groups and below 1.0.
    fill = RUNS_LENGTH + extra - n
    fillers = F32(0.95) + F32(3e-4) * np.arange(fill, dtype=F32)
    scores = np.stack([rng.permutation(np.concatenate([r[:n], fillers])) for r in rows])
    scores[1, :3] = [np.nan, -0.0, 0.0]
    expected = np.stack([visiting_order(r) for r in scores])
    names = ("score_order", "packed", "radix")
    for name, got in zip(names, np.asarray(all_orders(scores)), strict=True):
        assert np.array_equal(got, expected), name


@pytest.mark.parametrize("n", [2, 3, 64, 65, SMALL_N + 1])
def test_score_order_short_rows_and_ties(n):
    """Rows of 2 to 65 scores, and one just long enough for the packed sort: distinct, all
    equal (one run of exact ties), and two values."""
    rng = np.random.default_rng(n)
    for scores in (rng.random(n), np.full(n, 0.5), rng.integers(0, 2, n) / 2):
        expected = visiting_order(scores.astype(F32))
        for got in np.asarray(all_orders(scores.astype(F32)[None])):
            assert np.array_equal(got[0], expected)


@pytest.mark.parametrize("n, sorts", [(1 << 15, 2), ((1 << 15) + 1, 3)])
def test_score_order_long_rows_and_large_groups_of_ties(n, sorts):
    """Rows longer than ``PACK_MAX_N`` take the radix sort: at ``2^15`` scores its two sorts
    pack 15 index bits beside 16 of the key (the most an int32 holds), one more score takes a
    third sort. Near ties in runs far longer than ``PACK_RUN``, exact ties across the whole
    row (thousands of equal scores: a group of equal keys cost the earlier rank search one
    pass per member), NaN, signed zeros and keys spanning all 32 bits (+-3e38 and NaN: the
    third sort's digit is not empty), in the visiting order."""
    bits, digit = radix_passes(n)
    assert n > PACK_MAX_N and -(-32 // digit) == sorts, (bits, digit)
    rng = np.random.default_rng(15)
    row = np.resize(near_ties(rng, [40, 9, 300, 2] * 200), n)  # repeats: exact ties
    row[rng.permutation(n)[: n // 4]] = 0.5  # one group of n / 4 equal scores
    scores = np.stack([row, rng.permutation(row)]).astype(F32)
    scores[1, :5] = [np.nan, -0.0, 0.0, 3e38, -3e38]
    expected = np.stack([visiting_order(r) for r in scores])
    assert np.array_equal(np.asarray(jax.jit(score_order)(scores)), expected)


@jax.jit
def padded_orders(scores: jax.Array, n_valid: jax.Array) -> jax.Array:
    """``score_order`` with only the first ``n_valid`` scores real, and the sort the shape
    buckets take beyond ``SMALL_N`` on its padded keys (the largest real one)."""
    key = descending_key(scores.reshape(-1, scores.shape[-1]))
    real = jnp.arange(scores.shape[-1]) < n_valid
    top = jnp.max(jnp.where(real, key, jnp.iinfo(jnp.int32).min), axis=1, keepdims=True)
    key = jnp.where(real, key, top)
    return jnp.stack([score_order(scores, n_valid), order_radix(key)])


@pytest.mark.parametrize("n_valid", [0, 1, 37, 64])
def test_score_order_with_padding(n_valid):
    """A shape bucket's padding (indices from ``n_valid`` on, any values: NaN, larger or
    equal scores) comes last in index order, and the real scores (runs of near ties) are
    in the contract's visiting order, in every sort the buckets take."""
    rng = np.random.default_rng(n_valid)
    real = near_ties(rng, [3, 1, 4, 2, 8, 1, 5] * 3)[:n_valid]
    padding = np.concatenate([[np.nan, 2.0, 1.0], np.full(61, real.min() if n_valid else 0.5)])
    scores = np.concatenate([real, padding])[:64].astype(F32)[None]
    expected = np.concatenate([visiting_order(real), np.arange(n_valid, 64)])
    names = ("score_order", "radix")
    for name, got in zip(names, np.asarray(padded_orders(scores, n_valid)), strict=True):
        assert np.array_equal(got[0], expected), name


# ------------------------------------------------------------------ shape buckets


def _bucketed_and_unpadded(boxes, scores, t):
    """Eager ``nms`` (padded to its bucket) and the unpadded jitted core on the same input."""
    eager = np.asarray(jaximpl.nms(boxes, scores, t))
    idx, count = jaximpl.nms_padded_jit(
        jnp.asarray(boxes), jnp.asarray(scores), jnp.float32(t), len(scores)
    )
    return eager, np.asarray(idx)[: int(count)]


@pytest.mark.parametrize("n", [63, 65, SMALL_N + 7])
def test_bucketed_nms_equals_unpadded(n):
    """The eager ``nms`` pads to a shape bucket (64, 128, 512 boxes here; the packed sort
    in the last): the result equals the unpadded kernel's and the reference's, with ties (many
    equal scores, the padding's score among them), long chains and every threshold; the
    padded boxes (zeros: IoU 0 with everything, they would be kept) never appear."""
    rng = np.random.default_rng(n)
    problems = [
        (lattice_boxes(rng, n, 64), (rng.integers(0, 8, n) / 8).astype(F32)),
        (chain_boxes(n), np.linspace(1, 0, n, dtype=F32)),
    ]
    for boxes, scores in problems:
        for t in THRESHOLDS:
            want = reference.nms(boxes, scores, t)
            eager, unpadded = _bucketed_and_unpadded(boxes, scores, t)
            assert np.array_equal(eager, want), t
            assert np.array_equal(unpadded, want), t


def test_nms_compiles_once_per_bucket():
    """A stream of box counts compiles the NMS once per bucket (65 to 128 boxes: one
    program, where compiling per count would make 4), checks included; the eager
    ``nms_padded`` runs that same program whatever ``max_output_size`` (below, at and
    above the bucket), plus one small program per size that cuts the result, and the eager
    ``nms_keep_mask`` runs it too (the mask is made on the host)."""
    rng = np.random.default_rng(3)
    sizes = (1, 50, 128, 300)
    with count_compiles() as events:
        for n in (70, 99, 128, 101):
            boxes, scores = random_boxes(rng, n), rng.random(n).astype(F32)
            kept = np.asarray(jaximpl.nms(boxes, scores, 0.5))
            mask = jaximpl.nms_keep_mask(boxes, scores, 0.5)
            assert mask.shape == (n,) and mask.dtype == jnp.bool_, n
            assert np.array_equal(np.flatnonzero(mask), np.sort(kept)), n
            for k in sizes:
                idx, count = jaximpl.nms_padded(boxes, scores, 0.5, k)
                assert idx.shape == (k,) and int(count) == min(k, len(kept)), (n, k)
                assert np.array_equal(np.asarray(idx)[: int(count)], kept[:k]), (n, k)
    assert len([e for e in events if "nms" in e]) <= 1, events
    cuts = [e for e in events if "_fit" in e]
    assert len(cuts) <= len(sizes), events
    assert len(events) - len(cuts) <= 3, events  # the threshold's and count's conversions


def test_detection_buckets_equal_unpadded_and_compile_once():
    """The eager ``multibox_detection`` pads the anchors to a bucket (four per power of
    two: 65 to 80 anchors share one): the three anchor counts compile one program, and
    each result is the reference's, exactly (lattice anchors, zero offsets, probabilities
    in quarters: ties in the class maximum and in the NMS order), with no padded row."""
    rng = np.random.default_rng(13)
    problems = []
    for a in (66, 80, 71):
        probs = (rng.integers(0, 4, (2, 3, a)) / 4).astype(F32)
        problems.append((probs, np.zeros((2, 4 * a), F32), lattice_boxes(rng, a, 64)[None]))
    with count_compiles() as events:
        results = [jaximpl.multibox_detection(*p) for p in problems]
    assert len([e for e in events if "detection" in e]) <= 1, events
    for got, p in zip(results, problems, strict=True):
        assert np.array_equal(np.asarray(got), reference.multibox_detection(*p))


def test_ground_truth_buckets_equal_unpadded_and_compile_once():
    """The eager ``assign_anchor_to_bbox`` and ``multibox_target`` pad the ground-truth rows
    to a bucket (1 to 8 rows share one) as rows that are never assigned: three row counts
    compile one program each (the target's small input checked on the host: nothing else),
    and every result equals the reference's and the jitted call on the unpadded shape,
    exactly (lattice boxes: IoU ties, greedy rounds, threshold)."""
    rng = np.random.default_rng(21)
    anchors = lattice_boxes(rng, 40, 64)
    anchors[:, 2:] += 1 / 64  # positive extent
    problems = [lattice_boxes(rng, g, 64) for g in (3, 8, 5)]  # the last: jit, unpadded too
    labels = [np.stack([labels_from(rng, gt), labels_from(rng, gt)]) for gt in problems]
    labels[2][1, 1:, 0] = -1  # padding rows of the caller's own
    with count_compiles() as events:
        assigned = [jaximpl.assign_anchor_to_bbox(gt, anchors) for gt in problems]
    assert len([e for e in events if "assign" in e]) <= 1, events
    with count_compiles() as events:  # small input: checked and padded on the host
        targets = [jaximpl.multibox_target(anchors[None], lab) for lab in labels]
    assert events in ([], ["jit(_target_core)"]), events
    for gt, got in zip(problems, assigned, strict=True):
        assert np.array_equal(np.asarray(got), reference.assign_anchor_to_bbox(gt, anchors))
    for lab, got in zip(labels, targets, strict=True):
        want = reference.multibox_target(anchors[None], lab)
        for x, y in zip(got, want, strict=True):
            np.testing.assert_allclose(np.asarray(x), y, rtol=1e-6, atol=1e-6)
    # The offsets bit for bit as on the unpadded shape (one shape: each is a compile).
    assert np.array_equal(assigned[2], jax.jit(jaximpl.assign_anchor_to_bbox)(problems[2], anchors))
    unpadded = jax.jit(jaximpl.multibox_target)(anchors[None], labels[2])
    for x, z in zip(targets[2], unpadded, strict=True):
        assert np.array_equal(np.asarray(x), np.asarray(z))


# ------------------------------------------------------------------ large indices


def _grid_anchors(num: int, columns: int) -> np.ndarray:
    """Disjoint cells (IoU 0 between any two), exact in float32."""
    i = np.arange(num)
    x = (i % columns) / 2048.0
    y = (i // columns) / 2048.0
    return np.stack([x, y, x + 1 / 4096, y + 1 / 4096], 1).astype(F32)


def test_assign_indices_beyond_2_pow_24():
    num_anchors, num_gt = 300_000, 60  # A * G = 18e6 > 2^24
    anchors = _grid_anchors(num_anchors, 2000)
    idx = num_anchors - 1 - 977 * np.arange(num_gt)
    gt = anchors[idx]
    expected = np.full(num_anchors, -1)
    expected[idx] = np.arange(num_gt)
    got = np.asarray(jaximpl.assign_anchor_to_bbox(gt, anchors))
    assert np.array_equal(got, expected)
    labels = np.concatenate([np.full((num_gt, 1), 4, F32), gt], 1)[None]
    _, mask, classes = jax.jit(jaximpl.multibox_target)(anchors[None], labels)
    assert np.array_equal(np.flatnonzero(np.asarray(classes)[0]), np.sort(idx))
    assert float(np.asarray(mask).sum()) == 4 * num_gt


def test_assign_indices_beyond_2_pow_31():
    # 0.6 GB: the (A, G) matrix (9.6 GB in float32) is never materialised.
    num_anchors, num_gt = 2_000_000, 1200  # A * G = 2.4e9 > 2^31
    anchors = _grid_anchors(num_anchors, 2000)
    idx = num_anchors - 1 - 1637 * np.arange(num_gt)
    expected = np.full(num_anchors, -1)
    expected[idx] = np.arange(num_gt)
    got = np.asarray(jaximpl.assign_anchor_to_bbox(anchors[idx], anchors))
    assert np.array_equal(got, expected)


# ------------------------------------------------------------------ jit of every entry point


def test_jit_equals_eager_beyond_the_contract():
    """``jax.jit`` of the entry points the contract does not ask to be jittable (those it
    does are properties of ``properties/test_jittable.py``) equals the eager call."""
    rng = np.random.default_rng(7)
    b1, b2 = random_boxes(rng, 6), random_boxes(rng, 5)
    sizes, ratios = jnp.asarray([0.5, 0.25]), jnp.asarray([1.0, 2.0, 0.5])
    data = jnp.zeros((1, 3, 6, 9))
    assert np.array_equal(
        jaximpl.multibox_prior(data, sizes, ratios),
        jax.jit(jaximpl.multibox_prior)(data, sizes, ratios),
    )
    assert np.array_equal(  # Python sequences become tuples of tracers under jit
        jaximpl.multibox_prior(data, (0.5, 0.25), (1, 2)),
        jax.jit(jaximpl.multibox_prior)(data, (0.5, 0.25), (1, 2)),
    )
    assert np.array_equal(
        jaximpl.assign_anchor_to_bbox(b2, b1, iou_threshold=0.25),
        jax.jit(jaximpl.assign_anchor_to_bbox)(b2, b1, iou_threshold=0.25),
    )
    for f, args in (
        (jaximpl.box_corner_to_center, (b1,)),
        (jaximpl.box_center_to_corner, (b1,)),
        (jaximpl.offset_boxes, (b1[:5], b2)),
        (jaximpl.offset_inverse, (b1[:5], b2)),
    ):
        np.testing.assert_allclose(f(*args), jax.jit(f)(*args), rtol=1e-6, atol=1e-6)


def test_nms_cannot_be_traced_but_padded_can():
    good = np.asarray([[0, 0, 1, 1], [0.5, 0.5, 2, 2]], F32)
    with pytest.raises(TypeError, match="nms_padded"):
        jax.jit(jaximpl.nms)(good, np.asarray([0.5, 0.1], F32), 0.5)
    with pytest.raises(ValueError, match="static"):
        jax.jit(jaximpl.nms_padded)(good, np.asarray([0.5, 0.1], F32), 0.5, 2)


def test_jit_invalid_input_behaviour_is_pinned():
    """What the docstrings say the jitted forms do with input the eager forms reject."""
    good = np.asarray([[0, 0, 1, 1], [0.5, 0.5, 2, 2]], F32)
    nan_box = np.asarray([[np.nan, 0, 1, 1]], F32)
    # box_iou: a pair with a NaN coordinate has IoU 0, never NaN.
    iou = np.asarray(jax.jit(jaximpl.box_iou)(np.concatenate([nan_box, good]), good))
    assert np.array_equal(iou[0], [0, 0]) and not np.isnan(iou).any()
    # nms: NaN scores are visited last (after -inf), NaN boxes are always kept.
    boxes = np.asarray([[0, 0, 1, 1]] * 4, F32)
    scores = np.asarray([np.nan, 0.5, -np.inf, 0.7], F32)
    idx, count = jit_nms_padded(boxes, scores, 0.5, 4)
    assert np.asarray(idx).tolist() == [3, -1, -1, -1] and int(count) == 1
    boxes_nan = np.concatenate([boxes[:3], nan_box])
    idx, count = jit_nms_padded(boxes_nan, np.asarray([0.1, 0.5, 0.2, 0.9], F32), 0.5, 4)
    assert np.asarray(idx).tolist() == [3, 1, -1, -1]
    idx, count = jit_nms_padded(boxes, np.full(4, np.nan, F32), 0.5, 4)
    assert np.asarray(idx).tolist() == [0, -1, -1, -1]
    # multibox_target: a NaN class is padding; a NaN box takes an anchor only
    # in the greedy step and gets NaN offsets.
    anchors = np.asarray([[0, 0, 1, 1], [2, 2, 3, 3]], F32)[None]
    labels = np.asarray([[[np.nan, 0, 0, 1, 1], [2, np.nan, 0, 1, 1]]], F32)
    off, mask, cls = jax.jit(jaximpl.multibox_target)(anchors, labels)
    assert np.asarray(cls).tolist() == [[3, 0]]
    assert np.isnan(np.asarray(off)[0, :4]).any() and (np.asarray(off)[0, 4:] == 0).all()
    # multibox_detection: NaN probabilities are ignored in the class maximum.
    probs = np.asarray([[[0.1, 0.1], [np.nan, 0.2], [0.6, np.nan]]], F32)
    det = np.asarray(jax.jit(jaximpl.multibox_detection)(probs, np.zeros((1, 8), F32), anchors))
    assert det[0, :, :2].tolist() == [[1, pytest.approx(0.6)], [0, pytest.approx(0.2)]]
    # thresholds outside [0, 1] are used as given: t = -1 suppresses every overlap.
    idx, count = jit_nms_padded(boxes, np.asarray([0.1, 0.2, 0.3, 0.4], F32), -1.0, 4)
    assert int(count) == 1
    # inverted boxes: finite values without meaning.
    inv = np.asarray([[1, 1, 0, 0]], F32)
    assert np.isfinite(np.asarray(jax.jit(jaximpl.box_iou)(inv, good))).all()


# ------------------------------------------------------------------ compile options


def test_cpu_jit_takes_the_options_at_top_level_only():
    """A ``CpuJit`` called with concrete arguments on CPU runs (and compiles) its
    ``with_options`` form; inside a caller's ``jit`` or ``vmap``, its plain one (JAX rejects
    compiler options on a nested jit, so the caller's jit would fail)."""
    double = CpuJit(lambda x, k: x * k, static_argnames="k")
    assert double in CpuJit.instances
    x = jnp.arange(3.0)
    on_cpu = jax.default_backend() == "cpu"
    assert np.array_equal(double(x, k=2), [0, 2, 4])
    assert (double.with_options._cache_size(), double.plain._cache_size()) == (
        (1, 0) if on_cpu else (0, 1)
    )
    assert np.array_equal(jax.jit(lambda y: double(y, k=2))(x), [0, 2, 4])
    assert np.array_equal(jax.vmap(lambda y: double(y, k=3))(x), [0, 3, 6])
    assert double.with_options._cache_size() == (1 if on_cpu else 0)
    assert COMPILER_OPTIONS == {"xla_cpu_prefer_vector_width": 512}


def _cache_sizes() -> tuple[int, int]:
    """Compiled programs of every CpuJit: (with options, plain)."""
    return (
        sum(j.with_options._cache_size() for j in CpuJit.instances),
        sum(j.plain._cache_size() for j in CpuJit.instances),
    )


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="COMPILER_OPTIONS are for XLA:CPU")
def test_entry_points_compile_with_the_cpu_options_at_top_level_only():
    """Called eagerly, NMS and detection compile and run with ``COMPILER_OPTIONS`` (never a
    plain program; at most one new program each: ``nms_padded_jit`` on 6 boxes and 3
    outputs is a shape no other test uses, the others' shape buckets may be compiled
    already); inside a caller's jit, the plain jits (JAX rejects compiler options on a
    nested jit)."""
    rng = np.random.default_rng(11)
    boxes, scores = random_boxes(rng, 6), rng.random(6).astype(F32)
    probs = rng.random((1, 3, 6)).astype(F32)
    offs = np.zeros((1, 24), F32)
    calls = [
        (lambda b, s: jaximpl.nms_padded_jit(b, s, jnp.float32(0.5), 3), (boxes, scores), 1),
        (lambda b, s: jaximpl.nms_keep_mask(b, s, 0.5), (boxes, scores), None),
        (lambda b, s: jaximpl.nms_padded(b, s, 0.5, 4), (boxes, scores), None),
        (jaximpl.multibox_detection, (probs, offs, boxes[None]), None),
        (lambda b, s: jaximpl.nms(b, s, 0.5), (boxes, scores), None),
    ]
    for call, args, new in calls:
        before = _cache_sizes()
        jax.block_until_ready(call(*args))
        after = _cache_sizes()
        assert after[1] == before[1] and after[0] - before[0] in ((new,) if new else (0, 1))
        if call is not calls[-1][0]:  # nms cannot be traced
            # Traced arguments: the plain one, traced into the caller's program. Tracing is
            # enough: the options on a nested jit fail the trace (JAX raises a ValueError).
            jax.jit(call).trace(*args)


# ------------------------------------------------------------------ devices and dtypes


def _accelerators() -> list:
    """Every device that is not a CPU; on a CPU-only machine one skipped case (there, jit
    against eager is ``properties/test_jittable.py``'s, and there is nowhere to move to)."""
    found = [
        pytest.param(d, id=f"{d.platform}{d.id}") for d in jax.devices() if d.platform != "cpu"
    ]
    return found or [pytest.param(None, marks=pytest.mark.skip(reason="no accelerator"))]


@pytest.mark.parametrize("device", _accelerators())
def test_runs_on_every_device(device):
    """Target, detection and NMS, jitted on every accelerator, equal the eager CPU results
    and stay on that device; with the dtypes of the contract."""
    rng = np.random.default_rng(12)
    anchors = random_boxes(rng, 21)
    labels = np.stack([labels_from(rng, random_boxes(rng, 4)) for _ in range(2)])
    probs = np.asarray(jax.nn.softmax(rng.normal(0, 1, (3, 4, 21)).astype(F32), axis=1))
    offs = rng.normal(0, 0.3, (3, 4 * 21)).astype(F32)
    put = lambda x: jax.device_put(jnp.asarray(x), device)  # noqa: E731
    with jax.default_device(jax.devices("cpu")[0]):
        cpu = {
            "target": jaximpl.multibox_target(anchors[None], labels),
            "det": jaximpl.multibox_detection(probs, offs, anchors[None]),
            "nms": jaximpl.nms(anchors, probs[0, 1], 0.25),
        }
    with jax.default_device(device):
        got = {
            "target": jax.jit(jaximpl.multibox_target)(put(anchors[None]), put(labels)),
            "det": jax.jit(jaximpl.multibox_detection)(put(probs), put(offs), put(anchors[None])),
            "nms": jaximpl.nms(put(anchors), put(probs[0, 1]), 0.25),
        }
    assert got["det"].devices() == {device} and got["nms"].devices() == {device}
    for x, y in zip(cpu["target"], got["target"], strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(cpu["det"]), np.asarray(got["det"]), atol=1e-5)
    assert np.array_equal(np.asarray(cpu["nms"]), np.asarray(got["nms"]))
    for results in (cpu, got):
        assert [x.dtype for x in results["target"]] == [jnp.float32, jnp.float32, jnp.int32]
        assert results["det"].dtype == jnp.float32 and results["nms"].dtype == jnp.int32


def test_input_dtypes():
    """float16 input is computed in float32 (no overflow of areas); ints become float32."""
    big = np.asarray([[0, 0, 300, 300], [100, 100, 400, 400]], np.float16)
    iou = jaximpl.box_iou(big, big)
    assert iou.dtype == jnp.float32
    assert math.isclose(float(iou[0, 1]), 200 * 200 / (2 * 300 * 300 - 200 * 200), rel_tol=1e-6)
    ints = np.asarray([[0, 0, 1, 1], [0, 0, 2, 2]])
    assert jaximpl.box_iou(ints, ints).dtype == jnp.float32
    assert np.array_equal(jaximpl.box_iou(ints, ints), jaximpl.box_iou(ints.astype(F32), ints))
    assert jaximpl.multibox_prior(np.zeros((2, 2)), [1], [1]).dtype == jnp.float32
