"""Soundness tests of the JAX implementation (``jaximpl``).

Deterministic and small: golden cases, eager == jit, batch == per image,
padded == unpadded, ``nms_padded`` == prefix of ``nms``, no retrace, large
indices, every ``ValueError``, the jitted behaviour on invalid input, devices,
and exact agreement with the float64 reference on lattice inputs.
"""

from __future__ import annotations

import importlib
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaximpl
from jaximpl import matching as jm
from jaximpl._order import score_order
from jaximpl._tiled import nms_sorted, prepare

js = importlib.import_module("jaximpl.nms")  # the attribute jaximpl.nms is the function

reference = pytest.importorskip("reference")

F32 = np.float32
THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0)

DOG_CAT_GT = [[0, 0.1, 0.08, 0.52, 0.92], [1, 0.55, 0.2, 0.9, 0.88]]
DOG_CAT_ANCHORS = [
    [0, 0.1, 0.2, 0.3],
    [0.15, 0.2, 0.4, 0.4],
    [0.63, 0.05, 0.88, 0.98],
    [0.66, 0.45, 0.8, 0.8],
    [0.57, 0.3, 0.92, 0.9],
]
FOUR_ANCHORS = [
    [0.1, 0.08, 0.52, 0.92],
    [0.08, 0.2, 0.56, 0.95],
    [0.15, 0.3, 0.62, 0.91],
    [0.55, 0.2, 0.9, 0.88],
]
FOUR_PROBS = [[0] * 4, [0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.9]]


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


# ------------------------------------------------------------------ golden cases


def test_golden_multibox_prior_shape_and_values():
    data = np.zeros((1, 3, 561, 728), F32)
    out = jaximpl.multibox_prior(data, [0.75, 0.5, 0.25], [1, 2, 0.5])
    assert out.shape == (1, 2042040, 4) and out.dtype == jnp.float32
    ref = reference.multibox_prior(data, [0.75, 0.5, 0.25], [1, 2, 0.5])
    np.testing.assert_allclose(np.asarray(out), ref, rtol=0, atol=1e-6)
    # d2l prints boxes[250, 250, 0, :] of the (561, 728, 5, 4) view.
    np.testing.assert_allclose(
        np.asarray(out).reshape(561, 728, 5, 4)[250, 250, 0],
        [0.06, 0.07, 0.63, 0.82],
        atol=1e-2,
    )


def test_golden_dog_cat_target():
    anchors = np.asarray(DOG_CAT_ANCHORS, F32)[None]
    labels = np.asarray(DOG_CAT_GT, F32)[None]
    offsets, mask, classes = jaximpl.multibox_target(anchors, labels)
    assert np.array_equal(
        np.asarray(mask)[0],
        [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1],
    )
    assert np.array_equal(np.asarray(classes)[0], [0, 1, 2, 0, 2])
    assert classes.dtype == jnp.int32 and mask.dtype == jnp.float32
    ref = reference.multibox_target(anchors, labels)
    np.testing.assert_allclose(np.asarray(offsets), ref[0], rtol=1e-5, atol=1e-5)
    assigned = jaximpl.assign_anchor_to_bbox(labels[0, :, 1:], anchors[0])
    assert np.array_equal(np.asarray(assigned), [-1, 0, 1, -1, 1])


def test_golden_four_box_detection():
    out = jaximpl.multibox_detection(
        np.asarray(FOUR_PROBS, F32)[None],
        np.zeros((1, 16), F32),
        np.asarray(FOUR_ANCHORS, F32)[None],
        nms_threshold=0.5,
    )
    expected = [
        (0, 0.9, 0.1, 0.08, 0.52, 0.92),
        (1, 0.9, 0.55, 0.2, 0.9, 0.88),
        (-1, 0.8, 0.08, 0.2, 0.56, 0.95),
        (-1, 0.7, 0.15, 0.3, 0.62, 0.91),
    ]
    assert out.shape == (1, 4, 6) and out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(out)[0], expected, atol=1e-6)
    keep = jaximpl.nms(np.asarray(FOUR_ANCHORS, F32), np.asarray(FOUR_PROBS[1], F32), 0.5)
    assert np.array_equal(np.asarray(keep), [0, 3]) and keep.dtype == jnp.int32


# ------------------------------------------------------------- reference, exact


@pytest.mark.parametrize("n", [1, 9, 70, 300])
def test_nms_matches_reference_on_lattice(n):
    rng = np.random.default_rng(n)
    for trial in range(6):
        boxes = lattice_boxes(rng, n, steps=[8, 32, 128][trial % 3])
        scores = (rng.integers(0, 6, n) / 4).astype(F32)  # many ties
        for t in THRESHOLDS:
            expected = reference.nms(boxes, scores, t)
            assert np.array_equal(np.asarray(jaximpl.nms(boxes, scores, t)), expected)
            mask = np.asarray(jaximpl.nms_keep_mask(boxes, scores, t))
            assert np.array_equal(np.flatnonzero(mask), np.sort(expected))


@pytest.mark.parametrize("a,g", [(1, 1), (7, 3), (40, 8), (40, 1), (3, 6)])
def test_assign_matches_reference_on_lattice(a, g):
    rng = np.random.default_rng(100 * a + g)
    for trial in range(8):
        steps = [4, 16, 128][trial % 3]
        anchors, gt = lattice_boxes(rng, a, steps), lattice_boxes(rng, g, steps)
        for t in THRESHOLDS:
            expected = reference.assign_anchor_to_bbox(gt, anchors, iou_threshold=t)
            got = jaximpl.assign_anchor_to_bbox(gt, anchors, iou_threshold=t)
            assert got.dtype == jnp.int32
            assert np.array_equal(np.asarray(got), expected), (trial, t)


def test_box_iou_matches_reference_and_is_exact_on_lattice():
    rng = np.random.default_rng(1)
    b1, b2 = lattice_boxes(rng, 50), lattice_boxes(rng, 40)
    b1[:5, 2] = b1[:5, 0]  # degenerate boxes
    got = np.asarray(jaximpl.box_iou(b1, b2))
    ref = reference.box_iou(b1, b2)
    assert got.dtype == np.float32
    assert np.array_equal(got, ref.astype(F32))  # one correctly rounded division
    np.testing.assert_array_equal(np.asarray(jaximpl.box_iou(b1[:5], b1[:5])), 0)  # 0/0 -> 0


def test_target_and_detection_match_reference():
    rng = np.random.default_rng(2)
    anchors = lattice_boxes(rng, 30, 16)
    anchors[:, 2:] += 1 / 64
    labels = np.stack([labels_from(rng, lattice_boxes(rng, 5, 16)) for _ in range(3)])
    labels[1, 2, 0] = -1
    ref = reference.multibox_target(anchors[None], labels)
    got = jaximpl.multibox_target(anchors[None], labels)
    np.testing.assert_array_equal(np.asarray(got[1]), ref[1])
    np.testing.assert_array_equal(np.asarray(got[2]), ref[2])
    # float32 offsets: relative 1e-5 of values up to ~100 (5 log(eps) = -69 for empty boxes)
    np.testing.assert_allclose(np.asarray(got[0]), ref[0], rtol=1e-5, atol=2e-5)
    probs = (rng.integers(0, 8, (3, 4, 30)) / 8).astype(F32)
    offs = rng.normal(0, 0.5, (3, 120)).astype(F32)
    for t in THRESHOLDS:
        r = reference.multibox_detection(probs, np.zeros_like(offs), anchors[None], t, 0.25)
        g = jaximpl.multibox_detection(probs, np.zeros_like(offs), anchors[None], t, 0.25)
        np.testing.assert_allclose(np.asarray(g), r, atol=1e-6)
    r = reference.multibox_detection(probs, offs, anchors[None])
    g = np.asarray(jaximpl.multibox_detection(probs, offs, anchors[None]))
    np.testing.assert_array_equal(g[..., 0], r[..., 0])
    np.testing.assert_allclose(g[..., 1:], r[..., 1:], rtol=1e-5, atol=1e-6)


def test_coding_and_conversions_match_reference():
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 20), random_boxes(rng, 20)
    np.testing.assert_allclose(
        np.asarray(jaximpl.offset_boxes(a, b)),
        reference.offset_boxes(a, b),
        rtol=1e-5,
        atol=1e-5,
    )
    o = rng.normal(0, 1, (20, 4)).astype(F32)
    np.testing.assert_allclose(
        np.asarray(jaximpl.offset_inverse(a, o)),
        reference.offset_inverse(a, o),
        atol=1e-6,
    )
    c = jaximpl.box_corner_to_center(a)
    np.testing.assert_allclose(np.asarray(c), reference.box_corner_to_center(a), atol=1e-7)
    np.testing.assert_allclose(np.asarray(jaximpl.box_center_to_corner(c)), a, atol=1e-7)
    back = jaximpl.offset_inverse(a, jaximpl.offset_boxes(a, b))
    np.testing.assert_allclose(np.asarray(back), b, atol=1e-5)


# ------------------------------------------------------------------ NMS specifics


def test_nms_padded_is_prefix_of_nms():
    rng = np.random.default_rng(4)
    n = 300  # several tiles
    boxes = random_boxes(rng, n, 0.05, 0.3)
    scores = rng.random(n).astype(F32)
    for t in (0.0, 0.3, 0.5, 0.7):
        full = np.asarray(jaximpl.nms(boxes, scores, t))
        for k in (0, 1, 5, len(full), n, n + 7):
            idx, count = jaximpl.nms_padded(boxes, scores, t, k)
            assert idx.shape == (k,) and idx.dtype == jnp.int32 and count.dtype == jnp.int32
            m = min(k, len(full))
            assert int(count) == m
            assert np.array_equal(np.asarray(idx)[:m], full[:m])
            assert (np.asarray(idx)[m:] == -1).all()
            if k in (5, n + 7):
                idx_j, count_j = jit_nms_padded(boxes, scores, t, k)
                assert np.array_equal(np.asarray(idx_j), np.asarray(idx)) and int(count_j) == m


def test_nms_chain_below_half_and_strict_threshold():
    # A suppresses B, B overlaps C, A does not overlap C: C survives (t = 0.3 < 0.5).
    boxes = np.asarray([[0, 0, 4, 1], [2, 0, 6, 1], [4, 0, 8, 1]], F32)
    iou = np.asarray(jaximpl.box_iou(boxes, boxes))
    assert iou[0, 1] > 0.3 and iou[1, 2] > 0.3 and iou[0, 2] == 0
    scores = np.asarray([0.9, 0.8, 0.7], F32)
    assert np.asarray(jaximpl.nms(boxes, scores, 0.3)).tolist() == [0, 2]
    # IoU exactly at the threshold is not suppressed.
    pair = np.asarray([[0, 0, 5, 1], [3, 0, 8, 1]], F32)  # inter 2, union 8: IoU = 0.25
    assert float(jaximpl.box_iou(pair, pair)[0, 1]) == 0.25
    assert np.asarray(jaximpl.nms(pair, np.asarray([1, 0.5], F32), 0.25)).tolist() == [
        0,
        1,
    ]
    # Touching boxes at threshold 0: IoU 0 is not > 0.
    touch = np.asarray([[0, 0, 1, 1], [1, 0, 2, 1]], F32)
    assert np.asarray(jaximpl.nms(touch, np.asarray([1, 1], F32), 0.0)).tolist() == [
        0,
        1,
    ]


def test_nms_ties_unsorted_and_nonpositive_boxes():
    # All coordinates <= 0 must not vanish; equal scores go to the lower index.
    boxes = np.asarray([[-3, -3, -2, -2], [-3, -3, -2, -2], [-1, -1, 0, 0], [-3, -3, -2, -2]], F32)
    scores = np.asarray([0.5, 0.5, 0.1, 0.9], F32)
    assert np.asarray(jaximpl.nms(boxes, scores, 0.5)).tolist() == [3, 2]
    assert np.asarray(jaximpl.nms(boxes, np.full(4, 0.5, F32), 0.5)).tolist() == [0, 2]
    # -0.0 and 0.0 are equal scores.
    assert np.asarray(jaximpl.nms(boxes, np.asarray([0.0, -0.0, 0, 0], F32), 0.5)).tolist() == [
        0,
        2,
    ]


def test_nms_many_tiles_early_exit_and_chains():
    rng = np.random.default_rng(5)
    # Long chains across tile boundaries: boxes shifted along x by small steps.
    n = 700
    x = np.arange(n, dtype=F32) * 0.25
    boxes = np.stack([x, np.zeros(n, F32), x + 1, np.ones(n, F32)], 1)
    scores = np.linspace(1, 0, n, dtype=F32)
    for t in THRESHOLDS:
        expected = reference.nms(boxes, scores, t)
        assert np.array_equal(np.asarray(jaximpl.nms(boxes, scores, t)), expected)
        for k in (1, 3, 65, 200):
            idx, count = jaximpl.nms_padded(boxes, scores, t, k)
            assert int(count) == min(k, len(expected))
            assert np.array_equal(np.asarray(idx)[: int(count)], expected[:k])
    perm = rng.permutation(n)  # unsorted input
    expected = reference.nms(boxes[perm], scores[perm], 0.25)
    assert np.array_equal(np.asarray(jaximpl.nms(boxes[perm], scores[perm], 0.25)), expected)


def test_nms_tile_sizes_agree():
    rng = np.random.default_rng(6)
    boxes = lattice_boxes(rng, 257, 64)
    scores = (rng.integers(0, 50, 257) / 8).astype(F32)
    expected = reference.nms(boxes, scores, 0.25)
    for tile, chunk in ((8, 8), (32, 16), (256, 256)):
        sorted_boxes, order, t = prepare(jnp.asarray(boxes)[None], jnp.asarray(scores)[None], tile)
        idx, count = (x[0] for x in nms_sorted(sorted_boxes, order, 0.25, 257, t, chunk))
        assert np.array_equal(np.asarray(idx)[: int(count)], expected), (tile, chunk)


def test_batched_nms_images_finish_apart():
    """Images of one batch advance through the same tile loop (``_nms_sorted``).

    Each row must be that image's own NMS whatever its neighbours, also when one
    image reaches ``max_output_size`` tiles before another (it must stop
    appending while the others go on), for tile sizes with and without the
    narrowing of the cross step (64 -> 32, 128 -> 64 -> 32, 16: none).
    """
    rng = np.random.default_rng(11)
    n = 300
    # Kept counts far apart, so the images reach max_output_size tiles apart:
    # the unit box nudged by multiples of 1/64 (few kept), lattice boxes (some),
    # zero-width boxes (IoU 0 with everything: all kept, max_output_size first).
    nudged = (np.array([0, 0, 1, 1]) + rng.integers(0, 5, (n, 4)) / 64).astype(F32)
    flat = lattice_boxes(rng, n, 64)
    flat[:, 2] = flat[:, 0]
    images = [nudged, lattice_boxes(rng, n, 64), flat]
    scores = [(rng.integers(0, 40, n) / 8).astype(F32) for _ in images]
    expected = [reference.nms(b, s, 0.25) for b, s in zip(images, scores, strict=True)]
    assert len(expected[0]) < 7 < 40 < len(expected[1]) < len(expected[2]) == n
    boxes = jnp.asarray(np.stack(images))  # (B, N, 4)
    for k in (7, 40, n):
        for tile, chunk in ((64, 32), (128, 16), (16, 8)):
            sorted_boxes, order, t = prepare(boxes, jnp.asarray(np.stack(scores)), tile)
            idx, count = nms_sorted(sorted_boxes, order, jnp.float32(0.25), k, t, chunk)
            for b in range(3):
                want = expected[b][:k]
                got = np.asarray(idx[b])
                assert int(count[b]) == len(want), (k, tile, b)
                assert np.array_equal(got[: len(want)], want), (k, tile, chunk, b)
                assert np.all(got[len(want) :] == -1), (k, tile, b)


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


@pytest.mark.parametrize("groups", [[1] * 40, [2] * 30, [3, 4] * 12, [5, 6, 7, 8] * 6, [12, 3, 2]])
@pytest.mark.parametrize("extra", [0, 1])  # even and odd row lengths
def test_score_order_runs_of_nearly_equal_scores(groups, extra):
    """``_score_order`` (the sort behind every NMS) is the contract's visiting order when
    many scores differ in the last bits only: runs of up to ``PACK_RUN`` boxes are fixed by
    the packed sort's passes, longer ones (12) by the rank fallback. Three rows at once,
    eager and jitted; plus NaN, signed zeros and exact ties."""
    rng = np.random.default_rng(sum(groups) + extra)
    rows = [near_ties(rng, groups) for _ in range(3)]
    n = min(len(r) for r in rows) - 1 + extra
    scores = np.stack([r[:n] for r in rows])
    scores[1, :3] = [np.nan, -0.0, 0.0]
    expected = np.stack([visiting_order(r) for r in scores])
    for order in (score_order(jnp.asarray(scores)), jax.jit(score_order)(scores)):
        assert np.array_equal(np.asarray(order), expected)


@pytest.mark.parametrize("n", [1, 2, 3, 64, 65])
def test_score_order_short_rows_and_ties(n):
    """Rows of 1 to 65 scores: distinct, all equal (one run of exact ties), and two values."""
    rng = np.random.default_rng(n)
    for scores in (rng.random(n), np.full(n, 0.5), rng.integers(0, 2, n) / 2):
        got = np.asarray(jax.jit(score_order)(scores.astype(F32)))
        assert np.array_equal(got, visiting_order(scores.astype(F32)))


# ------------------------------------------------------- jit, batch, padding, retrace


def test_eager_equals_jit():
    rng = np.random.default_rng(7)
    anchors = random_boxes(rng, 50)
    labels = np.stack([labels_from(rng, random_boxes(rng, 4)) for _ in range(3)])
    b1, b2 = random_boxes(rng, 6), random_boxes(rng, 5)
    assert np.array_equal(jaximpl.box_iou(b1, b2), jax.jit(jaximpl.box_iou)(b1, b2))
    for e, j in zip(
        jaximpl.multibox_target(anchors[None], labels),
        jax.jit(jaximpl.multibox_target)(anchors[None], labels),
        strict=True,
    ):
        assert np.array_equal(np.asarray(e), np.asarray(j))
    probs = jax.nn.softmax(jnp.asarray(rng.normal(0, 1, (3, 4, 50)), jnp.float32), axis=1)
    offs = rng.normal(0, 0.3, (3, 200)).astype(F32)
    assert np.array_equal(
        jaximpl.multibox_detection(probs, offs, anchors[None]),
        jax.jit(jaximpl.multibox_detection)(probs, offs, anchors[None]),
    )
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
        jaximpl.assign_anchor_to_bbox(b1, anchors),
        jax.jit(jaximpl.assign_anchor_to_bbox)(b1, anchors),
    )
    assert np.array_equal(
        jaximpl.nms_keep_mask(anchors, probs[0, 1], 0.5),
        jax.jit(jaximpl.nms_keep_mask)(anchors, probs[0, 1], 0.5),
    )
    for f, args in (
        (jaximpl.box_corner_to_center, (b1,)),
        (jaximpl.box_center_to_corner, (b1,)),
        (jaximpl.offset_boxes, (b1[:5], b2)),
        (jaximpl.offset_inverse, (b1[:5], b2)),
    ):
        np.testing.assert_allclose(f(*args), jax.jit(f)(*args), rtol=1e-6, atol=1e-6)


def test_batch_equals_per_image_and_padding_is_ignored():
    rng = np.random.default_rng(8)
    anchors = random_boxes(rng, 80)[None]
    per_image = [labels_from(rng, random_boxes(rng, g)) for g in (3, 1, 5, 0)]
    g_max = 7
    padded = np.full((4, g_max, 5), -1, F32)
    for b, lab in enumerate(per_image):
        slots = np.sort(rng.choice(g_max, len(lab), replace=False))
        padded[b, slots] = lab
        free = np.setdiff1d(np.arange(g_max), slots)
        padded[b, free, 1:] = [
            np.nan,
            5,
            -3,
            0,
        ]  # garbage in padding rows is never read
        padded[b, free[:1], 0] = -7
    batch = jaximpl.multibox_target(anchors, padded)
    batch_jit = jax.jit(jaximpl.multibox_target)(anchors, padded)
    for b, lab in enumerate(per_image):
        single = jaximpl.multibox_target(anchors, lab[None].reshape(1, -1, 5))
        # Decisions exact; offsets within float32 rounding (the programs differ in G,
        # so XLA may fuse the arithmetic differently).
        for x, y, z in zip(batch[1:], batch_jit[1:], single[1:], strict=True):
            assert np.array_equal(np.asarray(x)[b], np.asarray(z)[0])
            assert np.array_equal(np.asarray(y)[b], np.asarray(z)[0])
        for x in (batch[0], batch_jit[0]):
            np.testing.assert_allclose(np.asarray(x)[b], np.asarray(single[0])[0], atol=1e-5)
    assert not np.asarray(batch[1])[3].any() and not np.asarray(batch[2])[3].any()
    probs = jax.nn.softmax(jnp.asarray(rng.normal(0, 1, (4, 5, 80)), jnp.float32), axis=1)
    offs = rng.normal(0, 0.3, (4, 320)).astype(F32)
    det = jaximpl.multibox_detection(probs, offs, anchors)
    for b in range(4):
        single = np.asarray(jaximpl.multibox_detection(probs[b : b + 1], offs[b : b + 1], anchors))
        assert np.array_equal(np.asarray(det)[b, :, :2], single[0, :, :2])
        np.testing.assert_allclose(np.asarray(det)[b], single[0], atol=1e-6)


def test_no_retrace_on_new_values():
    rng = np.random.default_rng(9)
    traces = {"n": 0}

    def target(a, l):
        traces["n"] += 1
        return jaximpl.multibox_target(a, l)

    jt = jax.jit(target)
    for _ in range(3):
        anchors = random_boxes(rng, 40)[None]
        labels = labels_from(rng, random_boxes(rng, 3))[None]
        jax.block_until_ready(jt(anchors, labels))
    assert traces["n"] == 1
    # The eager entry points reuse their jitted cores.
    pairs = (js._nms_jit, js._detection_jit)
    cores = (
        *[j for p in pairs for j in (p.with_options, p.plain)],
        jm._target_jit,
        jm._assign_jit,
    )
    for _ in range(2):  # warm up
        boxes, scores = random_boxes(rng, 30), rng.random(30).astype(F32)
        jaximpl.nms(boxes, scores, 0.5)
        jaximpl.nms_padded(boxes, scores, 0.4, 10)
        probs = rng.random((2, 3, 30)).astype(F32)
        jaximpl.multibox_detection(probs, np.zeros((2, 120), F32), boxes[None], 0.3)
        jaximpl.multibox_target(boxes[None], labels_from(rng, random_boxes(rng, 3))[None])
        jaximpl.assign_anchor_to_bbox(random_boxes(rng, 3), boxes, iou_threshold=0.3)
        if _ == 0:
            sizes = [c._cache_size() for c in cores]
    assert [c._cache_size() for c in cores] == sizes
    prior = jax.jit(jaximpl.multibox_prior)
    data = jnp.zeros((4, 5))
    prior(data, jnp.asarray([0.5, 0.2]), jnp.asarray([1.0, 2.0]))
    size = prior._cache_size()  # jit wrappers of one function share their cache
    prior(data, jnp.asarray([0.3, 0.1]), jnp.asarray([1.5, 0.5]))
    assert prior._cache_size() == size


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="COMPILER_OPTIONS are for XLA:CPU")
def test_entry_points_compile_with_the_cpu_options_at_top_level_only():
    """Called eagerly, NMS and detection compile and run with ``COMPILER_OPTIONS``;
    inside a caller's jit, the plain jits (JAX rejects compiler options on a nested
    jit, so the caller's jit would fail)."""
    rng = np.random.default_rng(11)
    boxes, scores = random_boxes(rng, 23), rng.random(23).astype(F32)
    probs = rng.random((1, 3, 23)).astype(F32)
    offs = np.zeros((1, 92), F32)
    calls = [
        (
            (js._nms_jit.with_options, js._nms_jit.plain),
            lambda: jaximpl.nms_padded(boxes, scores, 0.5, 4),
        ),
        (
            (js._keep_mask_jit.with_options, js._keep_mask_jit.plain),
            lambda: jaximpl.nms_keep_mask(boxes, scores, 0.5),
        ),
        (
            (js._detection_jit.with_options, js._detection_jit.plain),
            lambda: jaximpl.multibox_detection(probs, offs, boxes[None]),
        ),
    ]
    for (with_options, plain), call in calls:
        before = with_options._cache_size(), plain._cache_size()
        jax.block_until_ready(call())
        assert (with_options._cache_size(), plain._cache_size()) == (
            before[0] + 1,
            before[1],
        )
        jax.block_until_ready(jax.jit(call)())  # traces the plain one: no error
        assert with_options._cache_size() == before[0] + 1


# ---------------------------------------------------------------- large indices


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
    # About 20 s (50 s when the 2 cores are shared) and 0.6 GB: the (A, G)
    # matrix (9.6 GB in float32) is never materialised.
    num_anchors, num_gt = 2_000_000, 1200  # A * G = 2.4e9 > 2^31
    anchors = _grid_anchors(num_anchors, 2000)
    idx = num_anchors - 1 - 1637 * np.arange(num_gt)
    expected = np.full(num_anchors, -1)
    expected[idx] = np.arange(num_gt)
    got = np.asarray(jaximpl.assign_anchor_to_bbox(anchors[idx], anchors))
    assert np.array_equal(got, expected)


def test_greedy_recompute_when_columns_share_best_anchor():
    # All ground truths identical: every round removes the shared best anchor,
    # forcing recomputation of every remaining column (more than 8 at once).
    rng = np.random.default_rng(10)
    anchors = lattice_boxes(rng, 60, 32)
    gt = np.repeat(lattice_boxes(rng, 1, 32), 20, axis=0)
    for t in (0.0, 0.5, 1.0):
        expected = reference.assign_anchor_to_bbox(gt, anchors, iou_threshold=t)
        got = jaximpl.assign_anchor_to_bbox(gt, anchors, iou_threshold=t)
        assert np.array_equal(np.asarray(got), expected)


# ------------------------------------------------------------------- empty inputs


def test_empty_inputs():
    empty = np.zeros((0, 4), F32)
    some = random_boxes(np.random.default_rng(11), 3)
    assert jaximpl.box_iou(empty, some).shape == (0, 3)
    assert jaximpl.box_iou(some, empty).shape == (3, 0)
    assert np.array_equal(jaximpl.assign_anchor_to_bbox(empty, some), [-1, -1, -1])
    assert jaximpl.assign_anchor_to_bbox(some, empty).shape == (0,)
    assert jaximpl.nms(empty, np.zeros(0, F32), 0.5).shape == (0,)
    idx, count = jaximpl.nms_padded(empty, np.zeros(0, F32), 0.5, 4)
    assert np.array_equal(idx, [-1] * 4) and int(count) == 0
    assert jaximpl.nms_keep_mask(empty, np.zeros(0, F32), 0.5).shape == (0,)
    off, mask, cls = jaximpl.multibox_target(some[None], np.zeros((2, 0, 5), F32))
    assert off.shape == (2, 12) and not np.asarray(mask).any() and not np.asarray(cls).any()
    all_pad = np.full((2, 3, 5), -1, F32)
    off, mask, cls = jax.jit(jaximpl.multibox_target)(some[None], all_pad)
    assert np.isfinite(np.asarray(off)).all() and not np.asarray(mask).any()
    assert not np.asarray(cls).any()
    off, mask, cls = jaximpl.multibox_target(empty[None], np.zeros((2, 1, 5), F32))
    assert off.shape == (2, 0) and cls.shape == (2, 0)
    det = jaximpl.multibox_detection(np.zeros((2, 3, 0), F32), np.zeros((2, 0), F32), empty[None])
    assert det.shape == (2, 0, 6)
    assert jaximpl.offset_boxes(empty, empty).shape == (0, 4)


# ---------------------------------------------------------------------- ValueError

GOOD = np.asarray([[0, 0, 1, 1], [0.5, 0.5, 2, 2]], F32)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: jaximpl.box_iou(GOOD[:, :3], GOOD), "boxes1: last dimension"),
        (lambda: jaximpl.box_iou(GOOD, GOOD[None]), "boxes2: expected 2 dimensions"),
        (lambda: jaximpl.box_iou([[0, 0, np.nan, 1]], GOOD), "boxes1: non-finite"),
        (lambda: jaximpl.box_iou(GOOD, [[0, 0, np.inf, 1]]), "boxes2: non-finite"),
        (lambda: jaximpl.box_iou([[1, 0, 0, 1]], GOOD), "boxes1: x2 < x1"),
        (lambda: jaximpl.box_iou(GOOD, [[0, 1, 1, 0]]), "boxes2: y2 < y1"),
        (lambda: jaximpl.box_iou("abc", GOOD), "boxes1: cannot be read"),
        (lambda: jaximpl.box_corner_to_center([[1, 0, 0, 1]]), "boxes: x2 < x1"),
        (
            lambda: jaximpl.box_center_to_corner([[0, 0, -1, 1]]),
            "boxes: negative width",
        ),
        (
            lambda: jaximpl.box_center_to_corner([[0, 0, 1, -1]]),
            "boxes: negative height",
        ),
        (
            lambda: jaximpl.box_center_to_corner([[0, 0, np.nan, 1]]),
            "boxes: non-finite",
        ),
        (
            lambda: jaximpl.multibox_prior(np.zeros(3), [0.5], [1]),
            "data: needs at least 2",
        ),
        (
            lambda: jaximpl.multibox_prior(np.zeros((2, 2)), [0.5, 0], [1]),
            "sizes: must be pos",
        ),
        (
            lambda: jaximpl.multibox_prior(np.zeros((2, 2)), [0.5], [-1]),
            "ratios: must be pos",
        ),
        (
            lambda: jaximpl.multibox_prior(np.zeros((2, 2)), [], [1]),
            "sizes: must not be empty",
        ),
        (
            lambda: jaximpl.multibox_prior(np.zeros((2, 2)), [[0.5]], [1]),
            "sizes: expected a 1-D",
        ),
        (
            lambda: jaximpl.multibox_prior(np.zeros((2, 2)), [0.5], [np.nan]),
            "ratios: non-finite",
        ),
        (
            lambda: jaximpl.assign_anchor_to_bbox(GOOD, GOOD, iou_threshold=1.5),
            "iou_threshold",
        ),
        (
            lambda: jaximpl.assign_anchor_to_bbox(GOOD, GOOD, iou_threshold=-0.1),
            "iou_threshold",
        ),
        (
            lambda: jaximpl.assign_anchor_to_bbox(GOOD, GOOD, iou_threshold=np.nan),
            "iou_thresh",
        ),
        (
            lambda: jaximpl.assign_anchor_to_bbox([[1, 0, 0, 1]], GOOD),
            "ground_truth: x2 < x1",
        ),
        (
            lambda: jaximpl.assign_anchor_to_bbox(GOOD, [[0, 0, 1]]),
            "anchors: last dimension",
        ),
        (
            lambda: jaximpl.offset_boxes(GOOD, GOOD[:1]),
            "assigned_bb: length 1 does not match",
        ),
        (lambda: jaximpl.offset_boxes([[0, 0, 0, 1]], GOOD[:1]), "anchors: zero width"),
        (
            lambda: jaximpl.offset_boxes([[0, 0, 1, 0]], GOOD[:1]),
            "anchors: zero height",
        ),
        (lambda: jaximpl.offset_boxes(GOOD, GOOD, eps=-1), "eps: must be a finite"),
        (
            lambda: jaximpl.offset_inverse(GOOD, [[0, 0, np.nan, 0]] * 2),
            "offset_preds: non-fin",
        ),
        (
            lambda: jaximpl.offset_inverse(GOOD, [[0, 0, 1e4, 0]] * 2),
            "offset_preds: too large",
        ),
        (
            lambda: jaximpl.offset_inverse(GOOD, [[0, 0, 0, 0]]),
            "offset_preds: length 1",
        ),
        (lambda: jaximpl.nms(GOOD, [0.5], 0.5), "scores: length 1 does not match"),
        (lambda: jaximpl.nms(GOOD, [0.5, np.nan], 0.5), "scores: non-finite"),
        (lambda: jaximpl.nms(GOOD, [[0.5, 0.1]], 0.5), "scores: expected 1 dimensions"),
        (lambda: jaximpl.nms(GOOD, [0.5, 0.1], 2), "iou_threshold: must be in"),
        (
            lambda: jaximpl.nms(GOOD, [0.5, 0.1], "0.5"),
            "iou_threshold: must be a number",
        ),
        (
            lambda: jaximpl.nms(GOOD, [0.5, 0.1], True),
            "iou_threshold: must be a number",
        ),
        (lambda: jaximpl.nms([[0, 0, 1, np.nan]], [0.5], 0.5), "boxes: non-finite"),
        (
            lambda: jaximpl.nms_padded(GOOD, [0.5, 0.1], 0.5, -1),
            "max_output_size: must be a",
        ),
        (
            lambda: jaximpl.nms_padded(GOOD, [0.5, 0.1], 0.5, 2.5),
            "max_output_size: must be a",
        ),
        (
            lambda: jaximpl.nms_padded(GOOD, [0.5, 0.1], 0.5, True),
            "max_output_size: must be",
        ),
        (
            lambda: jaximpl.nms_padded(GOOD, [0.5, 0.1], -0.5, 2),
            "iou_threshold: must be in",
        ),
        (
            lambda: jaximpl.nms_keep_mask(GOOD, [0.5, 0.1], 1.01),
            "iou_threshold: must be in",
        ),
        (
            lambda: jaximpl.multibox_target(GOOD, np.zeros((1, 1, 5))),
            "anchors: expected 3 dim",
        ),
        (
            lambda: jaximpl.multibox_target(np.stack([GOOD, GOOD]), np.zeros((1, 1, 5))),
            "(1, A, 4)",
        ),
        (
            lambda: jaximpl.multibox_target(GOOD[None], np.zeros((1, 5))),
            "labels: expected 3",
        ),
        (
            lambda: jaximpl.multibox_target(GOOD[None], np.zeros((1, 1, 4))),
            "labels: last dim",
        ),
        (
            lambda: jaximpl.multibox_target(GOOD[None], [[[0.5, 0, 0, 1, 1]]]),
            "whole number",
        ),
        (
            lambda: jaximpl.multibox_target(GOOD[None], [[[np.nan, 0, 0, 1, 1]]]),
            "labels: non-f",
        ),
        (
            lambda: jaximpl.multibox_target(GOOD[None], [[[1, 1, 0, 0, 1]]]),
            "labels: x2 < x1",
        ),
        (
            lambda: jaximpl.multibox_target([[[0, 0, 0, 1]]], [[[1, 0, 0, 1, 1]]]),
            "zero width",
        ),
        (
            lambda: jaximpl.multibox_target([[[0, 0, 1, np.inf]]], [[[1, 0, 0, 1, 1]]]),
            "anchors",
        ),
    ],
)
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
        call()


def _det_args(batch=2, classes=3, anchors=2):
    return (
        np.full((batch, classes + 1, anchors), 0.25, F32),
        np.zeros((batch, 4 * anchors), F32),
        GOOD[None, :anchors],
    )


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda p, o, a: (p[:, :1], o, a), "cls_probs: needs a background row"),
        (lambda p, o, a: (p[0], o, a), "cls_probs: expected 3 dimensions"),
        (lambda p, o, a: (np.where(p == p, np.nan, p), o, a), "cls_probs: non-finite"),
        (lambda p, o, a: (p, o[:, :4], a), "offset_preds: expected shape"),
        (lambda p, o, a: (p, o[None], a), "offset_preds: expected 2 dimensions"),
        (lambda p, o, a: (p, o + np.nan, a), "offset_preds: non-finite"),
        (lambda p, o, a: (p, o + 1e4, a), "offset_preds: too large"),
        (lambda p, o, a: (p, o, a[:, :1]), "anchors: 1 anchors do not match"),
        (lambda p, o, a: (p, o, a[0]), "anchors: expected 3 dimensions"),
        (lambda p, o, a: (p, o, a[:, :, ::-1]), "anchors: x2 < x1"),
    ],
)
def test_detection_value_errors(mutate, match):
    with pytest.raises(ValueError, match=match):
        jaximpl.multibox_detection(*mutate(*_det_args()))


@pytest.mark.parametrize("kw", [{"nms_threshold": 1.5}, {"pos_threshold": -1.0}])
def test_detection_threshold_errors(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        jaximpl.multibox_detection(*_det_args(), **kw)


def test_nms_cannot_be_traced_but_padded_can():
    with pytest.raises(TypeError, match="nms_padded"):
        jax.jit(jaximpl.nms)(GOOD, np.asarray([0.5, 0.1], F32), 0.5)
    with pytest.raises(ValueError, match="static"):
        jax.jit(jaximpl.nms_padded)(GOOD, np.asarray([0.5, 0.1], F32), 0.5, 2)


# ------------------------------------------------------- jitted forms, invalid input


def test_jit_invalid_input_behaviour_is_pinned():
    nan_box = np.asarray([[np.nan, 0, 1, 1]], F32)
    # box_iou: a pair with a NaN coordinate has IoU 0, never NaN.
    iou = np.asarray(jax.jit(jaximpl.box_iou)(np.concatenate([nan_box, GOOD]), GOOD))
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
    assert np.isfinite(np.asarray(jax.jit(jaximpl.box_iou)(inv, GOOD))).all()


# -------------------------------------------------------------------------- devices


@pytest.mark.parametrize("device", jax.devices(), ids=lambda d: f"{d.platform}{d.id}")
def test_runs_on_every_device(device):
    rng = np.random.default_rng(12)
    anchors = random_boxes(rng, 200)
    labels = np.stack([labels_from(rng, random_boxes(rng, 4)) for _ in range(2)])
    probs = jax.nn.softmax(jnp.asarray(rng.normal(0, 1, (2, 4, 200)), jnp.float32), axis=1)
    offs = rng.normal(0, 0.3, (2, 800)).astype(F32)
    put = lambda x: jax.device_put(jnp.asarray(x), device)  # noqa: E731
    cpu = {
        "target": jaximpl.multibox_target(anchors[None], labels),
        "det": jaximpl.multibox_detection(probs, offs, anchors[None]),
        "nms": jaximpl.nms(anchors, probs[0, 1], 0.3),
    }
    with jax.default_device(device):
        got = {
            "target": jax.jit(jaximpl.multibox_target)(put(anchors[None]), put(labels)),
            "det": jax.jit(jaximpl.multibox_detection)(put(probs), put(offs), put(anchors[None])),
            "nms": jaximpl.nms(put(anchors), put(probs[0, 1]), 0.3),
        }
    assert got["det"].devices() == {device}
    for x, y in zip(cpu["target"], got["target"], strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(cpu["det"]), np.asarray(got["det"]), atol=1e-5)
    assert np.array_equal(np.asarray(cpu["nms"]), np.asarray(got["nms"]))


def test_float_types():
    # float16 input is computed in float32 (no overflow of areas); ints become float32.
    big = np.asarray([[0, 0, 300, 300], [100, 100, 400, 400]], np.float16)
    iou = jaximpl.box_iou(big, big)
    assert iou.dtype == jnp.float32
    assert math.isclose(float(iou[0, 1]), 200 * 200 / (2 * 300 * 300 - 200 * 200), rel_tol=1e-6)
    assert jaximpl.box_iou(np.asarray([[0, 0, 1, 1]]), np.asarray([[0, 0, 2, 2]])).dtype == (
        jnp.float32
    )
