"""Properties of ``box_corner_to_center`` and ``box_center_to_corner``.

``(x1, y1, x2, y2) -> ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)`` and back with
``(cx -/+ w / 2, cy -/+ h / 2)``: inverses of each other. On the lattice (corners multiples of
1/64 in [0, 2], centres of 1/128) every operation is exact in float32, so both round trips and
the known values hold bit for bit; off the lattice, coordinates stay below 3 in magnitude and
each conversion rounds at most twice per coordinate (error <= 3 ulp(3) = 7e-7), inside the
float32 tolerance (atol 1e-6).

Conventions (CONTRACT.md §7): under a declared box format the corner form is that format and the
center form ``(cx, cy, w, h)`` (``(cy, cx, h, w)`` under ``yxyx``); the plugin converts, so the
laws here do not change. Off the lattice ``xywh`` and ``cxcywh`` round the boxes they are given:
expected values are computed on the boxes as received.

Shapes: ``N`` from the size buckets, at most 9 shapes per function and test.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from .asserts import Call, assert_close, assert_equal, check
from .strategies import boxes, center_boxes, offlattice_boxes, sizes

F32 = np.float32


def _corner_boxes_either():
    """``(lattice, boxes)``: corner boxes on or off the lattice, degenerate ones included."""
    return st.one_of(
        st.tuples(st.just(True), boxes(sizes(34))),
        st.tuples(st.just(False), offlattice_boxes(sizes(34))),
    )


def _center_boxes_either():
    """``(lattice, boxes)``: center-form boxes on or off the lattice, zero sizes included."""
    return st.one_of(
        st.tuples(st.just(True), center_boxes(sizes(34), lattice=True)),
        st.tuples(st.just(False), center_boxes(sizes(34), lattice=False)),
    )


def _compare(lattice: bool, got, expected, call: Call, what: str) -> None:
    """Bit for bit on the lattice, within the dtype's tolerance off it."""
    __tracebackhide__ = True
    if lattice:
        assert_equal(got, expected, call, what=what)
    else:
        assert_close(got, expected, call, what=what)


@given(family=_corner_boxes_either())
@example(family=(True, np.array([[0, 0, 2, 1], [0.5, 0.25, 0.5, 1.5]], F32)))  # incl. zero width
def test_corner_to_center_to_corner_is_identity(impl, family, conventions):
    """``box_center_to_corner(box_corner_to_center(b)) == b``: exactly on the lattice.

    Catches a centre computed as the top-left corner (COCO ``xywh``) and a full extent used
    as a half extent: either way the box comes back moved or doubled.
    """
    lattice, b = family
    center = Call(impl, "box_corner_to_center", boxes=b)()
    call = Call(impl, "box_center_to_corner", boxes=center)
    (b_in,) = conventions.received("box_corner_to_center", b)  # b, unless a format rounds it
    what = "box_center_to_corner(box_corner_to_center(boxes)) vs boxes"
    _compare(lattice, call(), b_in, call, what)


@given(family=_center_boxes_either())
@example(family=(True, np.array([[1, 1, 2, 2], [0.5, 0.75, 0, 0.5]], F32)))
def test_center_to_corner_to_center_is_identity(impl, family):
    """``box_corner_to_center(box_center_to_corner(c)) == c``: exactly on the lattice."""
    lattice, c = family
    corner = Call(impl, "box_center_to_corner", boxes=c)()
    call = Call(impl, "box_corner_to_center", boxes=corner)
    _compare(lattice, call(), c, call, "box_corner_to_center(box_center_to_corner(boxes)) vs boxes")


@given(c=center_boxes(sizes(34), lattice=True))
@example(c=np.array([[1, 2, 2, 4], [1, 2, 0, 2], [0.5, 0.5, 1, 1]], F32))
def test_conversions_known_values(impl, c):
    """A box built from a known centre ``(cx, cy)`` and size ``(w, h)`` has corners
    ``(cx - w/2, cy - h/2, cx + w/2, cy + h/2)`` (computed here, exactly, in float64): each
    conversion must map one to the other exactly. The answer does not come from the reference.
    """
    c64 = c.astype(np.float64)
    corners = np.concatenate([c64[:, :2] - c64[:, 2:] / 2, c64[:, :2] + c64[:, 2:] / 2], axis=1)
    k = corners.astype(F32)
    check(np.array_equal(k, corners), "test bug: corners of a lattice centre box not exact", None)
    call = Call(impl, "box_corner_to_center", boxes=k)
    assert_equal(call(), c, call, what="centre form of boxes with known centre and size")
    call = Call(impl, "box_center_to_corner", boxes=c)
    assert_equal(call(), corners, call, what="corners of boxes with known centre and size")


@given(family=_corner_boxes_either())
def test_corner_to_center_matches_reference(impl, family, conventions):
    """``box_corner_to_center`` equals the reference: exactly on the lattice."""
    lattice, b = family
    call = Call(impl, "box_corner_to_center", boxes=b)
    _compare(lattice, call(), conventions.reference.box_corner_to_center(b), call, "centre form")


@given(family=_center_boxes_either())
def test_center_to_corner_matches_reference(impl, family, conventions):
    """``box_center_to_corner`` equals the reference: exactly on the lattice."""
    lattice, c = family
    call = Call(impl, "box_center_to_corner", boxes=c)
    _compare(lattice, call(), conventions.reference.box_center_to_corner(c), call, "corners")


@given(n=sizes(34), data=st.data())
def test_conversions_shape(impl, n, data):
    """Both conversions map ``(N, 4)`` to ``(N, 4)`` floats, for every bucket including 0 rows."""
    b = data.draw(boxes(n), label="boxes")
    for name in ("box_corner_to_center", "box_center_to_corner"):
        call = Call(impl, name, boxes=b)
        got = call()
        check(got.shape == (n, 4), f"{name} shape: got {got.shape}, expected {(n, 4)}", call)
        check(got.dtype.kind == "f", f"{name} dtype: got {got.dtype}, expected floats", call)
