"""Properties of ``box_iou``: equivalence with the reference, and the laws of IoU.

``box_iou(boxes1, boxes2)`` is ``|A ∩ B| / |A ∪ B|`` for every pair, ``(N, 4), (M, 4) -> (N, M)``,
and 0 where the union is empty. On the lattice (multiples of 1/64 in [0, 2]) intersections and
unions are exact in float32, so the IoU is one correctly rounded division and every law below
holds bit for bit; off the lattice the results are compared with the float32 tolerances.
(The reference against shapely is in ``test_oracles.py``.)

Conventions (CONTRACT.md §7, the ``conventions`` fixture): a NaN IoU for an empty union, an
epsilon in the union (``inter / (union + eps)``) and ``+1`` pixel widths change the laws about
empty unions, a box with itself, zero-area and touching boxes, dyadic IoUs and scale
invariance; under them those tests compare with the reference computed under the declared
conventions (exactly on the lattice, except with an epsilon: it adds roundings). Symmetry,
translation invariance and the shape hold under every convention and do not change.

Shapes: ``N`` and ``M`` come from the size buckets, at most 9 x 9 = 81 ``(N, M)`` shapes per
test (7 x 7 = 49 for most; the empty-union test pairs 8 buckets with ``M = N + 0, 1 or 3``, 24
shapes), so a jitted implementation compiles a bounded number of times.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from .asserts import Call, assert_close, assert_equal, check
from .strategies import (
    box_set_pairs,
    boxes,
    dyadic_iou_pairs,
    lattice_translations,
    offlattice_boxes,
    power_of_two_scales,
    separated_pairs,
    sizes,
    zero_area_boxes,
)

F32 = np.float32


def _iou_call(impl, b1: np.ndarray, b2: np.ndarray) -> Call:
    return Call(impl, "box_iou", boxes1=b1, boxes2=b2)


def contract_iou(conventions) -> bool:
    """Whether the conventions compute the contract's IoU (0 for an empty union, no
    epsilon, no ``+1``)."""
    return conventions.empty_union == "0" and conventions.pixel_offset == "0"


def compare_iou(got, expected, lattice: bool, conventions, call: Call, what: str) -> None:
    """Bit for bit where the IoU is exact (the lattice, no epsilon), within tolerance
    elsewhere."""
    __tracebackhide__ = True
    if lattice and conventions.exact_on_lattice:
        assert_equal(got, np.asarray(expected).astype(got.dtype), call, what=what)
    else:
        assert_close(got, expected, call, what=what)


def _areas(b: np.ndarray) -> np.ndarray:
    """Areas in float32, as a float32 implementation computes them."""
    return (b[:, 2] - b[:, 0]).astype(F32) * (b[:, 3] - b[:, 1]).astype(F32)


def _either_family():
    """``(lattice, (boxes1, boxes2))``: lattice or off-lattice pairs of box sets."""
    return st.one_of(
        st.tuples(st.just(True), box_set_pairs(lattice=True)),
        st.tuples(st.just(False), box_set_pairs(lattice=False)),
    )


# --- equivalence with the reference --------------------------------------------------------


@given(pair=box_set_pairs(lattice=True))
@example(  # touching, nested, identical and zero-area boxes, in both sets
    pair=(
        np.array([[0, 0, 1, 1], [0, 0, 0, 1], [0.5, 0.5, 1, 1]], F32),
        np.array([[1, 0, 2, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0.25, 0.25, 0.75, 0.75]], F32),
    )
)
def test_box_iou_matches_reference_on_lattice(impl, pair, conventions):
    """On the lattice the IoU is one correctly rounded division: the reference's float64
    value rounded to the result's dtype, bit for bit (double rounding through float64 is
    harmless for a division of float32 operands). With an epsilon in the union, within
    tolerance."""
    b1, b2 = pair
    call = _iou_call(impl, b1, b2)
    got = call()
    expected = conventions.reference.box_iou(b1, b2)
    compare_iou(got, expected, True, conventions, call, "IoU")


@given(pair=box_set_pairs(lattice=False))
def test_box_iou_matches_reference_off_lattice(impl, pair, conventions):
    """Off the lattice, within the dtype's tolerance of the float64 reference.

    Error bound in float32 (unit roundoff u): each side ``x2 - x1`` carries a relative error
    u, each area 3u, the intersection 3u; the union ``a1 + a2 - inter`` is at least half of
    ``a1 + a2``, so its relative error is at most about 12u, and the IoU's about 16u = 1e-6,
    well inside rtol 1e-5. (Areas never underflow: see ``offlattice_boxes``.)
    """
    b1, b2 = pair
    call = _iou_call(impl, b1, b2)
    assert_close(call(), conventions.reference.box_iou(b1, b2), call, what="IoU")


@given(n=sizes(34), m=sizes(34), data=st.data())
def test_box_iou_shape(impl, n, m, data):
    """``(N, 4), (M, 4) -> (N, M)`` for every bucket, ``N = 0`` or ``M = 0`` included, floats."""
    b1 = data.draw(boxes(n), label="boxes1")
    b2 = data.draw(boxes(m), label="boxes2")
    call = _iou_call(impl, b1, b2)
    got = call()
    check(got.shape == (n, m), f"IoU shape: got {got.shape}, expected {(n, m)}", call)
    check(got.dtype.kind == "f", f"IoU dtype: got {got.dtype}, expected a float dtype", call)


# --- laws ----------------------------------------------------------------------------------


@given(family=_either_family())
def test_box_iou_is_symmetric(impl, family):
    """``box_iou(b2, b1) == box_iou(b1, b2).T``: exactly on the lattice, within tolerance off it."""
    lattice, (b1, b2) = family
    iou12 = _iou_call(impl, b1, b2)()
    call = _iou_call(impl, b2, b1)
    iou21 = call()
    what = "box_iou(boxes2, boxes1) against box_iou(boxes1, boxes2).T"
    if lattice:
        assert_equal(iou21, iou12.T, call, what=what)
    else:
        assert_close(iou21, iou12.T, call, what=what)


@given(
    pair=st.one_of(
        box_set_pairs(lattice=True),
        box_set_pairs(lattice=False),
        # raw floats too (tiny and subnormal extents): the range law holds whatever the rounding
        st.tuples(boxes(sizes(13), lattice=False), boxes(sizes(13), lattice=False)),
    )
)
@example(  # a box 1e-45 high: its float32 area underflows to 0 (union 0), float64's does not
    pair=(np.array([[0, 0, 1, 1e-45]], F32), np.array([[0, 0, 1, 1e-45]], F32))
)
def test_box_iou_in_unit_interval(impl, pair, conventions):
    """Every IoU is a number in ``[0, 1]``: never NaN, never negative, never above 1. (Declared
    ``empty_union=nan``: NaN is allowed where both boxes have zero area in float32.)"""
    b1, b2 = pair
    call = _iou_call(impl, b1, b2)
    got = call().astype(np.float64)
    bad = ~((got >= 0) & (got <= 1))  # NaN fails both comparisons
    if conventions.empty_union == "nan" and conventions.pixel_offset == "0":
        tiny = np.finfo(F32).tiny  # an area that underflows float32 counts as 0
        empty = (_areas(b1) < tiny)[:, None] & (_areas(b2) < tiny)[None, :]
        bad &= ~(empty & np.isnan(got))
    where = [tuple(int(i) for i in w) for w in np.argwhere(bad)[:5]]
    check(
        not bad.any(),
        f"IoU outside [0, 1] at {where}: {[got[w] for w in where]}",
        call,
    )


@given(
    family=st.one_of(
        st.tuples(st.just(True), boxes(sizes(34, min_size=1), degenerate=False)),
        st.tuples(st.just(False), offlattice_boxes(sizes(34, min_size=1), degenerate=False)),
    )
)
def test_box_iou_of_box_with_itself_is_one(impl, family, conventions):
    """A box of positive area has IoU exactly 1 with itself (on the lattice; off it within
    tolerance). An epsilon in the union, or a union that counts the overlap twice, breaks it.
    (Declared ``empty_union=eps:E``: ``area / (area + E)``, below 1.)"""
    lattice, b = family
    call = _iou_call(impl, b, b)
    diagonal = np.diagonal(call()).copy()
    what = "IoU of each box with itself (the diagonal of box_iou(b, b))"
    if conventions.union_eps:
        expected = np.diagonal(conventions.reference.box_iou(b, b))
        compare_iou(diagonal, expected, lattice, conventions, call, what)
    elif lattice:
        assert_equal(diagonal, np.ones(len(b)), call, what=what)
    else:
        assert_close(diagonal, np.ones(len(b)), call, what=what)


@given(pair=separated_pairs())
@example(pair=(np.array([0, 0, 1, 1], F32), np.array([1, 0, 2, 1], F32)))  # shared edge
@example(pair=(np.array([0, 0, 1, 1], F32), np.array([1, 1, 2, 2], F32)))  # shared corner
@example(pair=(np.array([0, 0, 1, 1], F32), np.array([1.5, 0.25, 2, 0.5], F32)))  # apart in x
def test_box_iou_is_zero_for_disjoint_and_touching_boxes(impl, pair, conventions):
    """Boxes apart, or sharing only an edge or a corner, have IoU exactly 0 (both orders).

    Catches a negative overlap that is not clamped (apart in x, overlapping in y gives a
    negative "intersection"; apart in both a positive one) and the "+1 pixel" convention
    (touching boxes overlap by one pixel).
    """
    b1, b2 = pair
    for x, y in ((b1, b2), (b2, b1)):
        call = _iou_call(impl, x[None], y[None])
        expected = np.zeros((1, 1))
        if not contract_iou(conventions):  # +1 pixels: touching boxes overlap by one
            expected = conventions.reference.box_iou(x[None], y[None])
        assert_equal(call(), expected, call, what="IoU of disjoint or touching boxes")


@given(pair=dyadic_iou_pairs())
@example(pair=(np.array([0, 0, 1, 1], F32), np.array([0, 0, 1, 0.5], F32), 0.5))  # nested half
@example(pair=(np.array([0, 0, 0.75, 1], F32), np.array([0.25, 0, 1, 1], F32), 0.5))  # shifted
def test_box_iou_at_dyadic_value_is_exact(impl, pair, conventions):
    """Pairs built with IoU exactly 0.25, 0.5 or 0.75 get exactly that (both orders): the
    decisions of NMS and matching at a dyadic threshold depend on it. (Under an epsilon or
    ``+1`` pixels the pair has another IoU: the reference's under them.)"""
    b1, b2, t = pair
    for x, y in ((b1, b2), (b2, b1)):
        call = _iou_call(impl, x[None], y[None])
        what = f"IoU of a pair built to have IoU {t}"
        if contract_iou(conventions) and not conventions.union_eps:
            assert_equal(call(), np.full((1, 1), t), call, what=what)
        else:
            expected = conventions.reference.box_iou(x[None], y[None])
            compare_iou(call(), expected, True, conventions, call, what)


@given(b1=zero_area_boxes(), b2=boxes(sizes(13)))
def test_box_iou_of_zero_area_box_is_zero(impl, b1, b2, conventions):
    """A point or a segment has IoU 0 with every box, whatever it overlaps. (Declared
    ``empty_union=nan``: NaN with another zero-area box; ``+1`` pixels: the reference's.)"""
    call = _iou_call(impl, b1, b2)
    expected = np.zeros((len(b1), len(b2)))
    if not contract_iou(conventions):
        expected = conventions.reference.box_iou(b1, b2)
    assert_equal(call(), expected, call, what="IoU of zero-area boxes")


@given(b=zero_area_boxes(), data=st.data())
@example(b=np.array([[0.5, 0.5, 0.5, 0.5]], F32), data=None)  # a point with itself: 0/0
@example(b=np.array([[0, 0.5, 1, 0.5], [0.25, 0.5, 0.75, 0.5]], F32), data=None)  # collinear
def test_box_iou_empty_union_is_zero(impl, b, data, conventions):
    """Two zero-area boxes (identical, collinear and overlapping, or crossing) have union 0:
    their IoU is 0, not NaN (0 / 0). The contract's first deliberate departure from d2l.
    (Declared ``empty_union=nan``: NaN; ``eps:E``: 0 / E = 0; ``+1`` pixels: no union is 0,
    the reference's.)"""
    if data is None:
        b2 = b
    else:  # the same boxes in another order, and more zero-area boxes
        order = data.draw(st.permutations(range(len(b))), label="order")
        extra = data.draw(zero_area_boxes(st.sampled_from([0, 1, 3])), label="extra")
        b2 = np.concatenate([b[np.asarray(order, dtype=np.int64)], extra])
    call = _iou_call(impl, b, b2)
    empty = np.nan if conventions.empty_union == "nan" else 0.0
    expected = np.full((len(b), len(b2)), empty)
    if conventions.pixel_offset != "0":
        expected = conventions.reference.box_iou(b, b2)
    assert_equal(call(), expected, call, what="IoU of two zero-area boxes")


@given(pair=box_set_pairs(lattice=True), tx=lattice_translations(), ty=lattice_translations())
def test_box_iou_is_translation_invariant(impl, pair, tx, ty):
    """Translating both sets by the same lattice vector leaves every IoU unchanged, bit for bit
    (the translated coordinates are still exact multiples of 1/64)."""
    b1, b2 = pair
    shift = np.array([tx, ty, tx, ty], F32)
    before = _iou_call(impl, b1, b2)()
    call = _iou_call(impl, b1 + shift, b2 + shift)
    assert_equal(
        call(), before, call, what=f"IoU after translating both sets by ({tx}, {ty}) vs before"
    )


@given(family=_either_family(), sx=power_of_two_scales(), sy=power_of_two_scales())
@example(  # a self-overlap of area 2**-12: an epsilon in the union shows after scaling
    family=(
        True,
        (np.array([[0, 0, 1 / 64, 1 / 64]], F32), np.array([[0, 0, 1 / 64, 1 / 64]], F32)),
    ),
    sx=256.0,
    sy=256.0,
)
def test_box_iou_is_scale_invariant(impl, family, sx, sy, conventions):
    """Scaling x by ``2**i`` and y by ``2**j`` in both sets leaves every IoU unchanged, bit
    for bit, on and off the lattice: every operation of ``inter / union`` commutes exactly with
    power-of-two scaling (no underflow: extents are at least 2**-24). An additive epsilon or
    the "+1 pixel" convention is not scale-free and breaks it: declared, the scaled IoU is
    compared with the reference's under them."""
    lattice, (b1, b2) = family
    scale = np.array([sx, sy, sx, sy], F32)
    before = _iou_call(impl, b1, b2)()
    call = _iou_call(impl, b1 * scale, b2 * scale)
    what = f"IoU after scaling both sets by ({sx}, {sy})"
    if conventions.union_eps or conventions.pixel_offset != "0":
        expected = conventions.reference.box_iou(b1 * scale, b2 * scale)
        compare_iou(call(), expected, lattice, conventions, call, f"{what} vs the reference")
        return
    assert_equal(call(), before, call, what=f"{what} vs before")
