"""Properties of ``clip_boxes_to_image``, ``remove_small_boxes`` and its twin
``remove_small_boxes_keep_mask`` (CONTRACT.md §3.6).

``clip_boxes_to_image(boxes, (height, width))`` clips ``x1, x2`` to ``[0, width]`` and
``y1, y2`` to ``[0, height]``; ``remove_small_boxes(boxes, min_size)`` returns, ascending,
the indices of the boxes whose width and height are both ``>= min_size``.

Exactness: clipping only compares and copies numbers, so it is exact for any input. Widths
and heights of lattice boxes are exact in float32, and ``min_size`` is often exactly one of
them (:func:`properties.strategies.min_sizes`), so the ``>=`` boundary is decided
exactly; the tests use lattice boxes (translated by whole lattice steps, so negative
coordinates too) for it.

Shapes: ``N`` from the size buckets.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_equal, check
from .strategies import clip_problems, min_sizes, sizes

F32 = np.float32


def clip_call(impl, b, size) -> Call:
    return Call(impl, "clip_boxes_to_image", boxes=b, size=size)


def either_lattice():
    return st.booleans().flatmap(lambda lattice: clip_problems(sizes(), lattice=lattice))


# --- clip_boxes_to_image ---------------------------------------------------------------------


@given(problem=either_lattice())
@example(  # a box across the right edge of a wide image, one above it, one far outside
    problem=(np.array([[0.5, -0.25, 1.75, 0.5], [-1, -1, -0.5, -0.5], [3, 3, 4, 4]], F32),
             (0.75, 1.5)),
)  # fmt: skip
def test_clip_matches_reference_and_known_values(impl, problem):
    """Equal to the reference and to the values computed here (x in ``[0, width]``, y in
    ``[0, height]``), exactly."""
    b, size = problem
    call = clip_call(impl, b, size)
    got = call()
    assert_equal(got, reference.clip_boxes_to_image(b, size), call, what="clipped boxes")
    height, width = size
    known = b.astype(np.float64).copy()
    known[:, 0::2] = np.minimum(np.maximum(known[:, 0::2], 0), width)
    known[:, 1::2] = np.minimum(np.maximum(known[:, 1::2], 0), height)
    assert_equal(got, known, call, what="clipped boxes (x to the width, y to the height)")


@given(problem=either_lattice())
def test_clip_transposes_with_the_image(impl, problem):
    """Clipping the transposed boxes ``(y1, x1, y2, x2)`` to the transposed image
    ``(width, height)`` gives the transposed result (torchvision's SSD boxes once swapped W
    and H, pytorch/vision #6550): catches clipping both axes to one side of the image. (A
    clip that swaps height and width throughout passes this law; the known values catch it.)"""
    b, (height, width) = problem
    flip = [1, 0, 3, 2]
    before = clip_call(impl, b, (height, width))()
    call = clip_call(impl, b[:, flip], (width, height))
    assert_equal(call(), before[:, flip], call, what="clipped transposed boxes vs transposed")


@given(problem=either_lattice())
def test_clip_is_idempotent_and_keeps_inner_boxes(impl, problem):
    """Clipping twice is clipping once; boxes already inside are unchanged; every result is
    a valid box inside the image."""
    b, size = problem
    once = clip_call(impl, b, size)()
    call = clip_call(impl, once, size)
    assert_equal(call(), once, call, what="clipped twice vs once")
    height, width = size
    inside = (b[:, 0] >= 0) & (b[:, 1] >= 0) & (b[:, 2] <= width) & (b[:, 3] <= height)
    assert_equal(once[inside], b[inside], call, what="boxes inside the image")
    ok = (once[:, 0] <= once[:, 2]) & (once[:, 1] <= once[:, 3])
    ok &= (once[:, 0] >= 0) & (once[:, 2] <= width) & (once[:, 1] >= 0) & (once[:, 3] <= height)
    check(bool(ok.all()), f"clipped boxes not valid boxes inside the image: {once[~ok]}", call)


@given(problem=clip_problems(st.sampled_from((0, 6)), lattice=True))
def test_clip_leading_dimensions(impl, problem):
    """``(2, N/2, 4)`` and a single ``(4,)`` box clip as their rows do."""
    b, size = problem
    flat = clip_call(impl, b, size)()
    call = clip_call(impl, b.reshape(2, -1, 4), size)
    assert_equal(call(), flat.reshape(2, -1, 4), call, what="(2, N/2, 4) vs the rows")
    if len(b):
        call = clip_call(impl, b[0], size)
        assert_equal(call(), flat[0], call, what="a single (4,) box vs its row")


@pytest.mark.parametrize(
    ("name", "b", "size"),
    [
        ("size", [[0, 0, 1, 1]], (1.0,)),
        ("size", [[0, 0, 1, 1]], (1.0, -1.0)),
        ("size", [[0, 0, 1, 1]], (np.nan, 1.0)),
        ("boxes", [[1, 0, 0, 1]], (1.0, 1.0)),
        ("boxes", [[0, 0, np.inf, 1]], (1.0, 1.0)),
        ("boxes", [[0, 0, 1]], (1.0, 1.0)),
    ],
)
def test_clip_rejects_bad_input(impl, name, b, size):
    """``ValueError`` naming the argument: a size that is not two finite numbers ``>= 0``,
    invalid boxes."""
    with pytest.raises(ValueError, match=f"^{name}"):
        clip_call(impl, np.asarray(b, F32), size)()


# --- remove_small_boxes ----------------------------------------------------------------------


@st.composite
def small_box_problems(draw):
    b, _ = draw(clip_problems(sizes(), lattice=True))
    return b, draw(min_sizes(b))


@given(problem=small_box_problems())
@example(problem=(np.array([[0, 0, 0.25, 1], [0, 0, 0.5, 0.125], [1, 1, 1, 1]], F32), 0.25))
def test_remove_small_boxes_matches_reference_and_known_values(impl, problem):
    """The kept indices equal the reference's and the ones computed here: ascending, both
    sides ``>= min_size`` (a box exactly ``min_size`` wide stays)."""
    b, m = problem
    call = Call(impl, "remove_small_boxes", boxes=b, min_size=m)
    got = call()
    assert_equal(got, reference.remove_small_boxes(b, m), call, what="kept indices")
    w, h = (b[:, 2] - b[:, 0]).astype(np.float64), (b[:, 3] - b[:, 1]).astype(np.float64)
    assert_equal(got, np.flatnonzero((w >= m) & (h >= m)), call, what="boxes with sides >= m")


@given(problem=small_box_problems())
def test_remove_small_boxes_keep_mask_is_membership(impl, problem):
    """The twin's mask is True exactly at the kept indices; ``min_size = 0`` keeps all."""
    b, m = problem
    call = Call(impl, "remove_small_boxes_keep_mask", boxes=b, min_size=m)
    mask = call()
    ok = mask.dtype == np.bool_ and mask.shape == (len(b),)
    check(ok, f"mask: dtype {mask.dtype}, shape {mask.shape}; expected bool ({len(b)},)", call)
    kept = Call(impl, "remove_small_boxes", boxes=b, min_size=m)()
    assert_equal(np.flatnonzero(mask), kept, call, what="mask positions vs kept indices")
    call = Call(impl, "remove_small_boxes_keep_mask", boxes=b, min_size=0.0)
    check(bool(call().all()), "min_size = 0 must keep every box", call)


@given(problem=small_box_problems(), other=st.integers(0, 64).map(lambda k: k / 64))
def test_remove_small_boxes_is_monotone(impl, problem, other):
    """A larger ``min_size`` keeps a subset of the boxes a smaller one keeps."""
    b, m = problem
    lo, hi = min(m, other), max(m, other)
    keep_lo = set(Call(impl, "remove_small_boxes", boxes=b, min_size=lo)().tolist())
    call = Call(impl, "remove_small_boxes", boxes=b, min_size=hi)
    keep_hi = set(call().tolist())
    check(keep_hi <= keep_lo, f"min_size {hi} keeps {sorted(keep_hi - keep_lo)} not kept by "
          f"min_size {lo}", call)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "b", "m"),
    [
        ("min_size", [[0, 0, 1, 1]], -0.5),
        ("min_size", [[0, 0, 1, 1]], float("nan")),
        ("min_size", [[0, 0, 1, 1]], (0.5, 0.5)),
        ("boxes", [[1, 0, 0, 1]], 0.5),
        ("boxes", [[0, 0, 1]], 0.5),
    ],
)
@pytest.mark.parametrize("function", ["remove_small_boxes", "remove_small_boxes_keep_mask"])
def test_remove_small_boxes_rejects_bad_input(impl, function, name, b, m):
    """``ValueError`` naming the argument: a ``min_size`` that is not a finite number
    ``>= 0``, invalid boxes."""
    with pytest.raises(ValueError, match=f"^{name}"):
        Call(impl, function, boxes=np.asarray(b, F32), min_size=m)()
