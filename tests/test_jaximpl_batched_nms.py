"""Tests of what only jaximpl's class-aware NMS has (jaximpl/batched_nms.py).

The contract's rules (CONTRACT.md §3.2) run against jaximpl in
``properties/test_batched_nms.py``. Here: ``jax.jit`` and ``jax.vmap`` of the static twin
equal the eager calls, it compiles once per shape (not per value, nor per
``max_output_size`` for the heavy part), class labels beyond int32 and float labels,
empty input, and the row machinery that the suite's small problems never reach: segments
longer than a short row (the long rows), more segments than short rows (several passes),
segments of several images in one pass, and images of more than 2**15 boxes (the
three-key sort). Every answer is compared with the reference.

Compile budget: the lattice problems share one shape (``N`` boxes, ``B`` images).
"""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaximpl
import reference
from properties.test_jittable import count_compiles

bn = importlib.import_module("jaximpl.batched_nms")

F32 = np.float32
B, N = 2, 40
THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0)


def lattice_problem(rng: np.random.Generator, batch: int = B, n: int = N, classes: int = 4):
    """Lattice boxes (multiples of 1/64 in [0, 2]), scores on a 1/16 grid (ties), labels."""
    a = rng.integers(0, 129, size=(batch, n, 2, 2)) / 64
    lo, hi = a.min(axis=3), a.max(axis=3)
    boxes = np.stack([lo[..., 0], lo[..., 1], hi[..., 0], hi[..., 1]], -1).astype(F32)
    scores = (rng.integers(0, 16, (batch, n)) / 16).astype(F32)
    idxs = rng.integers(-2, classes - 2, (batch, n))
    return boxes, scores, idxs


def expected_padded(boxes, scores, idxs, t, size, score_threshold=None):
    return reference.batched_nms_padded(boxes, scores, idxs, t, size, score_threshold)


def assert_padded(got, expected):
    np.testing.assert_array_equal(np.asarray(got[0]), expected[0])
    np.testing.assert_array_equal(np.asarray(got[1]), expected[1])


# ------------------------------------------------------------------ jit, vmap, compiles


def test_jit_equals_eager_and_the_reference():
    rng = np.random.default_rng(1)
    f = jax.jit(jaximpl.batched_nms_padded, static_argnames="max_output_size")
    wide = np.array([-(2**31), -7, 10**6, 2**31 - 1])  # labels -2..1 -> int32 extremes
    for trial in range(6):
        boxes, scores, idxs = lattice_problem(rng)
        if trial == 5:  # labels spanning more than N values: the jitted sort's dense ranks
            idxs = wide[idxs + 2]
        t = THRESHOLDS[trial % 5]
        st = None if trial % 3 == 0 else float(scores[0, 3])  # jitted: trials 1 and 5 take one
        size = (N, 7)[trial % 2]
        expected = expected_padded(boxes, scores, idxs, t, size, st)
        assert_padded(jaximpl.batched_nms_padded(boxes, scores, idxs, t, size, st), expected)
        if size == 7:  # jitted: one max_output_size (each is a program of its own)
            got = f(boxes, scores, idxs, t, max_output_size=size, score_threshold=st)
            assert_padded(got, expected)


def test_vmap_over_a_leading_axis_equals_each_call():
    rng = np.random.default_rng(2)
    problems = [lattice_problem(rng) for _ in range(3)]
    boxes, scores, idxs = (np.stack(x) for x in zip(*problems, strict=True))
    f = jax.vmap(lambda b, s, c: jaximpl.batched_nms_padded(b, s, c, 0.5, 9, 0.25))
    indices, counts = f(boxes, scores, idxs)
    for k, (b, s, c) in enumerate(problems):
        expected = expected_padded(b, s, c, 0.5, 9, 0.25)
        assert_padded((indices[k], counts[k]), expected)


def test_compiles_once_for_new_values():
    """New boxes, scores, labels and thresholds of the same shapes: no new trace under a
    caller's jit, and no new program eagerly, nor for a new ``max_output_size`` (below, at
    and above ``N``: the host cuts the bucket's selection)."""
    rng = np.random.default_rng(3)
    traces = []

    def step(b, s, c, t, st):
        traces.append(1)
        return jaximpl.batched_nms_padded(b, s, c, t, 5, st)

    jitted = jax.jit(step)
    for trial in range(3):
        boxes, scores, idxs = lattice_problem(rng)
        t, st = THRESHOLDS[trial + 1], float(trial) / 8
        assert_padded(
            jitted(boxes, scores, idxs, t, st), expected_padded(boxes, scores, idxs, t, 5, st)
        )
    assert len(traces) == 1
    jaximpl.batched_nms_padded(*lattice_problem(rng), 0.5, 3)
    with count_compiles() as events:
        for size in (3, 4, 6, 0, 200):
            for _ in range(2):
                boxes, scores, idxs = lattice_problem(rng)
                got = jaximpl.batched_nms_padded(boxes, scores, idxs, 0.25, size)
                assert_padded(got, expected_padded(boxes, scores, idxs, 0.25, size))
    assert not events, events


def test_eager_pads_to_a_bucket_equal_to_unpadded_and_compiles_once():
    """Eager ``batched_nms`` and ``batched_nms_padded`` pad ``N`` to its shape bucket (33 to
    64 boxes: one program for both, where compiling per count would make four) with boxes that
    are no candidates: each result equals the reference's (exact: lattice boxes, so also the
    unpadded twin's, which ``test_jit_equals_eager_and_the_reference`` compares with the
    reference), padding never among the indices nor counted."""
    rng = np.random.default_rng(17)
    problems = [lattice_problem(rng, batch=1, n=n) for n in (33, 40, 64, 50)]
    with count_compiles() as events:
        eager = [
            (
                jaximpl.batched_nms(b[0], s[0], c[0], 0.25),
                jaximpl.batched_nms_padded(b, s, c, 0.25, 64),
            )
            for b, s, c in problems
        ]
    # The NMS does not depend on max_output_size: (1, 64) boxes is one program for both.
    assert len([e for e in events if "keep_core" in e]) <= 1, events
    for (b, s, c), (flat, padded) in zip(problems, eager, strict=True):
        assert_padded(padded, expected_padded(b, s, c, 0.25, 64))
        np.testing.assert_array_equal(
            np.asarray(flat), reference.batched_nms(b[0], s[0], c[0], 0.25)
        )


def test_eager_cannot_be_traced_but_the_twin_can():
    boxes, scores, idxs = lattice_problem(np.random.default_rng(4), batch=1)
    with pytest.raises(TypeError, match="batched_nms_padded"):
        jax.jit(jaximpl.batched_nms)(boxes[0], scores[0], idxs[0], 0.5)
    with pytest.raises(ValueError, match="^max_output_size"):
        jax.jit(lambda m: jaximpl.batched_nms_padded(boxes, scores, idxs, 0.5, m))(3)


# ------------------------------------------------------------------ labels


def test_class_labels_beyond_int32_and_float_labels():
    """Labels 5 and 2**32 + 5 are two classes (int32 would make them one), and so are the
    whole floats 2**24 and 2**24 + 1 (float32 would); the result equals the reference's."""
    rng = np.random.default_rng(5)
    boxes, scores, _ = lattice_problem(rng, batch=1)
    base = rng.integers(0, 2, N)
    for labels in (base * 2**32 + 5, base * 2**32 - 2**40, base + 2.0**24):
        expected = reference.batched_nms(boxes[0], scores[0], labels, 0.5)
        got = jaximpl.batched_nms(boxes[0], scores[0], labels, 0.5)
        np.testing.assert_array_equal(np.asarray(got), expected)
        assert_padded(
            jaximpl.batched_nms_padded(boxes, scores, labels[None], 0.5, N),
            expected_padded(boxes, scores, labels[None], 0.5, N),
        )


def test_traced_float_labels_negative_zero_is_zero():
    """Jitted, float labels are compared as floats: -0.0 and 0.0 are one class (the second
    identical box is suppressed), 1.0 another."""
    boxes = np.tile(np.array([[0, 0, 1, 1]], F32), (3, 1))[None]
    scores = np.array([[0.75, 0.5, 0.25]], F32)
    labels = np.array([[0.0, -0.0, 1.0]], F32)
    f = jax.jit(lambda c: jaximpl.batched_nms_padded(boxes, scores, c, 0.5, 3))
    indices, counts = f(labels)
    assert np.asarray(indices).tolist() == [[0, 2, -1]] and int(counts[0]) == 2


# ------------------------------------------------------------------ empty input


def test_empty_input():
    empty = jaximpl.batched_nms(np.zeros((0, 4), F32), np.zeros(0, F32), np.zeros(0, int), 0.5)
    assert empty.shape == (0,)
    for batch, n, size in ((0, 5, 3), (2, 0, 3), (2, 5, 0)):
        boxes = np.zeros((batch, n, 4), F32)
        indices, counts = jaximpl.batched_nms_padded(
            boxes, np.zeros((batch, n), F32), np.zeros((batch, n), int), 0.5, size
        )
        assert indices.shape == (batch, size) and np.all(np.asarray(indices) == -1)
        assert counts.shape == (batch,) and np.all(np.asarray(counts) == 0)


# ------------------------------------------------------------------ the row machinery


@pytest.mark.parametrize(
    "layout",
    [
        (8, 2, 8),  # 2 short rows of 8: several passes, long segments in rows of N
        (8, 3, 16),
        (40, 40, 40),  # every segment short, one pass
    ],
)
def test_every_layout_gives_the_reference(layout):
    """Any ``(tile, rows_short, len_short)`` gives the same answer: segments longer than a
    short row go to the long rows, more segments than rows take several passes, segments of
    all images share a pass; non-candidates are nowhere."""
    rng = np.random.default_rng(6)
    for trial in range(8):
        boxes, scores, idxs = lattice_problem(rng, classes=(2, 9)[trial % 2])
        t = THRESHOLDS[trial % 5]
        st = float(scores[1, 0]) if trial % 3 else None
        cand = np.ones((B, N), bool) if st is None else scores > st
        labels = jnp.asarray(np.unique(idxs, return_inverse=True)[1].reshape(B, N), jnp.int32)
        got = bn._batched_core(
            jnp.asarray(boxes), jnp.asarray(scores), labels, jnp.asarray(cand), jnp.float32(t),
            N, layout,
        )  # fmt: skip
        assert_padded(got, expected_padded(boxes, scores, idxs, t, N, st))


def test_default_plan_sends_a_large_class_to_a_long_row():
    """300 boxes: short rows hold 64 boxes (``plan``), so a class of 200 boxes takes a long
    row; with 5 small classes beside it."""
    tile, rows, length = bn.plan(300)
    assert (tile, length) == (64, 64)
    rng = np.random.default_rng(7)
    boxes, scores, _ = lattice_problem(rng, batch=1, n=300)
    idxs = np.where(np.arange(300) < 200, 7, rng.integers(0, 5, 300))[None]
    expected = expected_padded(boxes, scores, idxs, 0.5, 300)
    assert_padded(jaximpl.batched_nms_padded(boxes, scores, idxs, 0.5, 300), expected)


def test_more_than_2_to_the_15_boxes():
    """Above 2**15 boxes an image the class sort takes three keys (no packed key): copies of
    8 lattice boxes in 4 classes, scores with ties."""
    n = 2**15 + 3
    rng = np.random.default_rng(8)
    distinct, _, _ = lattice_problem(rng, batch=1, n=8)
    boxes = distinct[0][rng.integers(0, 8, n)]
    scores = (rng.integers(0, 64, n) / 64).astype(F32)
    idxs = rng.integers(0, 4, n)
    expected = reference.batched_nms(boxes, scores, idxs, 0.5)
    np.testing.assert_array_equal(
        np.asarray(jaximpl.batched_nms(boxes, scores, idxs, 0.5)), expected
    )
