"""Properties of ``box_convert(boxes, in_fmt, out_fmt)`` (CONTRACT.md §3.1).

Formats ``xyxy`` ``(x1, y1, x2, y2)``, ``xywh`` ``(x1, y1, w, h)``, ``cxcywh``
``(cx, cy, w, h)`` and ``yxyx`` ``(y1, x1, y2, x2)``; every conversion goes through corners.

Exactness: on the lattice (corners multiples of 1/64 in [0, 2], so centres of 1/128 and sizes
of 1/64) every operation of every conversion is exact in float32: results, round trips and
known values hold bit for bit. Off the lattice each conversion rounds at most twice per
coordinate (once into corners, ``x1 + w`` or ``cx -/+ w / 2``, once out of them, ``x2 - x1``
or ``(x1 + x2) / 2``; halving is exact), each rounding within ``u`` of the magnitudes in play,
so a result is within ``4u M`` of the exact value, ``M`` the largest magnitude in its row
(input or output), ``u`` the unit roundoff of the result's dtype.

Shapes: ``N`` from the size buckets; 16 format pairs, so at most 9 x 16 compiles of a jitted
implementation (in practice far fewer: Hypothesis draws 40 examples).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_equal, assert_within, check
from .strategies import FORMATS, corners_to, format_boxes, formats, sizes

F32 = np.float32


def convert_call(impl, b, in_fmt, out_fmt) -> Call:
    return Call(impl, "box_convert", boxes=b, in_fmt=in_fmt, out_fmt=out_fmt)


def rounding_bound(got: np.ndarray, inputs: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``4u M`` per row: see the module docstring."""
    u = float(np.finfo(got.dtype).eps) / 2 if got.dtype.kind == "f" else 0.0
    m = np.maximum(np.abs(inputs.astype(np.float64)), np.abs(expected)).max(axis=-1)
    return 4 * u * m[..., None]


@st.composite
def conversions(draw, lattice: bool | None = None):
    """``(lattice, boxes, in_fmt)``; the tests convert to every format."""
    if lattice is None:
        lattice = draw(st.booleans())
    in_fmt = draw(formats())
    b, _ = draw(format_boxes(in_fmt, sizes(34), lattice=lattice))
    return lattice, b, in_fmt


# --- equivalence with the reference ------------------------------------------------------


@given(problem=conversions())
@example(problem=(True, np.array([[0.5, 0.25, 0.5, 1.0], [0, 0, 2, 1]], F32), "xyxy"))
def test_box_convert_matches_reference(impl, problem):
    """Conversions to every format equal the reference: bit for bit on the lattice, within
    ``4u M`` off it."""
    lattice, b, in_fmt = problem
    for out_fmt in FORMATS:
        call = convert_call(impl, b, in_fmt, out_fmt)
        got = call()
        expected = reference.box_convert(b, in_fmt, out_fmt)
        if lattice:
            assert_equal(got, expected, call, what=f"{in_fmt} -> {out_fmt}")
        else:
            bound = rounding_bound(got, b, expected)
            assert_within(got, expected, bound, call, what=f"{in_fmt} -> {out_fmt}")


# --- laws --------------------------------------------------------------------------------


@given(problem=conversions(lattice=True))
def test_box_convert_round_trip_is_identity_on_lattice(impl, problem):
    """``box_convert(box_convert(b, f, g), g, f) == b`` bit for bit, for every ``g``
    (``f`` included)."""
    _, b, in_fmt = problem
    for out_fmt in FORMATS:
        there = convert_call(impl, b, in_fmt, out_fmt)()
        call = convert_call(impl, there, out_fmt, in_fmt)
        assert_equal(call(), b, call, what=f"{in_fmt} -> {out_fmt} -> {in_fmt} vs the boxes")


@given(problem=conversions(lattice=True))
def test_box_convert_composes(impl, problem):
    """Converting through any third format gives the direct conversion, bit for bit on the
    lattice: ``box_convert(box_convert(b, f, h), h, g) == box_convert(b, f, g)`` for every
    ``g`` and ``h``. Catches a shortcut between two formats that does not agree with the way
    through the others."""
    _, b, in_fmt = problem
    for out_fmt in FORMATS:
        direct = convert_call(impl, b, in_fmt, out_fmt)()
        for via in FORMATS:
            step = convert_call(impl, b, in_fmt, via)()
            call = convert_call(impl, step, via, out_fmt)
            what = f"{in_fmt} -> {via} -> {out_fmt} vs {in_fmt} -> {out_fmt}"
            assert_equal(call(), direct, call, what=what)


@given(fmt=formats(), data=st.data())
@example(  # COCO's (x, y, w, h) is not the centre form; yxyx is not xyxy
    fmt="xywh", data=None
)
def test_box_convert_known_values(impl, fmt, data):
    """A box known by its corners has, in ``fmt``, the values computed here in float64
    (exactly, on the lattice): ``box_convert`` must map each to the other exactly. The
    answer does not come from the reference."""
    if data is None:
        corners = np.array([[0.25, 0.5, 1.0, 2.0], [1, 1, 1, 1.5]], F32)
        b = corners_to(corners, fmt).astype(F32)
    else:
        b, corners = data.draw(format_boxes(fmt, sizes(13), lattice=True), label="boxes")
    call = convert_call(impl, corners, "xyxy", fmt)
    assert_equal(call(), b, call, what=f"{fmt} form of boxes with known corners")
    call = convert_call(impl, b, fmt, "xyxy")
    assert_equal(call(), corners, call, what=f"corners of boxes given in {fmt}")


@given(data=st.data())
def test_box_convert_agrees_with_chapter_conversions(impl, data):
    """``xyxy -> cxcywh`` is ``box_corner_to_center`` and ``cxcywh -> xyxy`` is
    ``box_center_to_corner`` (CONTRACT.md §2.1), bit for bit on the lattice."""
    n = st.sampled_from((1, 13))  # few shapes: the chapter's functions compile per shape
    b, corners = data.draw(format_boxes("cxcywh", n, lattice=True), label="boxes")
    call = convert_call(impl, corners, "xyxy", "cxcywh")
    chapter = Call(impl, "box_corner_to_center", boxes=corners)()
    assert_equal(call(), chapter, call, what="box_convert xyxy -> cxcywh vs box_corner_to_center")
    call = convert_call(impl, b, "cxcywh", "xyxy")
    chapter = Call(impl, "box_center_to_corner", boxes=b)()
    assert_equal(call(), chapter, call, what="box_convert cxcywh -> xyxy vs box_center_to_corner")


@given(in_fmt=formats(), out_fmt=formats(), data=st.data())
def test_box_convert_leading_dimensions(impl, in_fmt, out_fmt, data):
    """``(B, N, 4)`` and a single ``(4,)`` box convert as their rows do; the result keeps the
    input's shape and is floating point."""
    b, _ = data.draw(format_boxes(in_fmt, st.sampled_from((0, 6)), lattice=True), label="boxes")
    flat = convert_call(impl, b, in_fmt, out_fmt)()
    call = convert_call(impl, b.reshape(2, -1, 4), in_fmt, out_fmt)
    got = call()
    check(got.dtype.kind == "f", f"dtype: got {got.dtype}, expected floats", call)
    assert_equal(got, flat.reshape(2, -1, 4), call, what="(2, N/2, 4) vs the rows converted")
    if len(b):
        call = convert_call(impl, b[0], in_fmt, out_fmt)
        assert_equal(call(), flat[0], call, what="a single (4,) box vs its row")


# --- bad input ---------------------------------------------------------------------------


BAD_CASES = [
    ("in_fmt", [[0, 0, 1, 1]], "xyxz", "xyxy"),
    ("out_fmt", [[0, 0, 1, 1]], "xyxy", "XYWH"),
    ("out_fmt", [[0, 0, 1, 1]], "xyxy", None),
    ("boxes", [[0, 0, 1]], "xyxy", "xywh"),
    ("boxes", [[1, 0, 0.5, 1]], "xyxy", "xywh"),  # x2 < x1
    ("boxes", [[0, 1, 1, 0.5]], "yxyx", "xyxy"),  # x2 < x1 in (y1, x1, y2, x2)
    ("boxes", [[0, 0, -0.25, 1]], "xywh", "xyxy"),  # negative width
    ("boxes", [[0, 0, 1, -0.25]], "cxcywh", "xyxy"),  # negative height
    ("boxes", [[0, np.nan, 1, 1]], "xywh", "cxcywh"),
    ("boxes", [[0, 0, np.inf, 1]], "xyxy", "xyxy"),
]


@pytest.mark.parametrize(("name", "b", "in_fmt", "out_fmt"), BAD_CASES)
def test_box_convert_rejects_bad_input(impl, name, b, in_fmt, out_fmt):
    """``ValueError`` naming the argument: unknown formats, a wrong last dimension, non-finite
    values, boxes invalid in ``in_fmt`` (reversed corners, negative sizes)."""
    call = convert_call(impl, np.asarray(b, F32), in_fmt, out_fmt)
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


def test_box_convert_accepts_every_format_and_no_boxes(impl):
    """The four formats, and zero boxes (``(0, 4)`` in, ``(0, 4)`` out)."""
    for in_fmt in FORMATS:
        for out_fmt in FORMATS:
            call = convert_call(impl, np.zeros((0, 4), F32), in_fmt, out_fmt)
            got = call()
            check(got.shape == (0, 4), f"shape: got {got.shape}, expected (0, 4)", call)
