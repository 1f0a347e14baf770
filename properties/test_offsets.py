"""Properties of the box coding: ``offset_boxes`` and ``offset_inverse``.

``offset_boxes(a, b, eps)`` is, in centre form,
``(10 (cx_b - cx_a) / w_a, 10 (cy_b - cy_a) / h_a, 5 log(eps + w_b / w_a), 5 log(eps + h_b / h_a))``
and ``offset_inverse(a, o)`` decodes ``cx = o_x w_a / 10 + cx_a``, ``w = exp(o_w / 5) w_a``
back to corners.

Rounding bounds (``u`` the unit roundoff of the result's dtype, ``M`` the largest coordinate
magnitude of a box, first order in ``u``; ``exp`` and ``log`` within 1 ulp, i.e. ``2u``):

- centre offset ``10 d / w_a``: each centre is within ``2u M`` (one addition and an exact
  halving, or ``x1 + w / 2``), ``d`` within ``2u (M_a + M_b) + u |d|``, the product and quotient
  (and ``w_a``) add ``3u`` relative: ``|err| <= 20u (M_a + M_b) / w_a + 4u |o|``;
- size offset ``5 log(eps + rho)``: ``rho`` carries ``3u``, the sum ``u`` (positive terms), so
  the log's argument ``4u`` relative, i.e. ``4u`` absolute on the log; the log itself ``2u``,
  the factor 5 ``u``: ``|err| <= 20u + 3u |o|``;
- decoded corner ``cx -/+ w / 2``: ``p = o_x w_a / 10`` within ``3u |p|``, the centre within
  ``3u |p| + 2u M_a + u |cx|``, the width ``exp(o_w / 5) w_a`` within
  ``(4u + u |o_w| / 5) w`` (the argument, exp, the product, ``w_a``), the corner ``u |corner|``.

Conventions (CONTRACT.md §7): none changes the coding, but a declared ``xywh`` or ``cxcywh``
box format hands the implementation boxes rounded by the conversion off the lattice; expected
values are computed on the boxes as received (``conventions.reference``,
``conventions.received``).

Inputs: ``A`` from the size buckets (at most 9 shapes per function and test, so a jitted
implementation compiles at most 9 times per function), anchors of positive extent, boxes on
the lattice or off it (non-zero extents >= 2**-24, see ``offlattice_boxes``).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_within, check
from .strategies import (
    coding_problems,
    lattice_translations,
    offset_preds,
    power_of_two_scales,
    sizes,
)

F32 = np.float32
EPSILONS = (1e-6, 1e-3, 0.0625)  # the default, and larger ones that show where eps goes


def _unit_roundoff(dtype) -> float:
    return float(np.finfo(dtype).eps) / 2


def _center(b: np.ndarray) -> np.ndarray:
    b = b.astype(np.float64)
    return np.stack(
        [(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1
    )


def _magnitude(b: np.ndarray) -> np.ndarray:
    """``(A, 2)``: the largest magnitude of each box's x and y coordinates."""
    b = np.abs(b.astype(np.float64))
    return np.stack([np.maximum(b[:, 0], b[:, 2]), np.maximum(b[:, 1], b[:, 3])], 1)


def coding_bound(
    anchors: np.ndarray, boxes: np.ndarray, offsets: np.ndarray, u: float
) -> np.ndarray:
    """``(A, 4)`` rounding bound of ``offset_boxes(anchors, boxes)`` whose value is ``offsets``."""
    m = _magnitude(anchors) + _magnitude(boxes)
    wh_a = _center(anchors)[:, 2:]
    xy = 20 * u * m / wh_a + 4 * u * np.abs(offsets[:, :2])
    wh = 20 * u + 3 * u * np.abs(offsets[:, 2:])
    return np.concatenate([xy, wh], axis=1)


def decoding_bound(
    anchors: np.ndarray, offsets: np.ndarray, decoded: np.ndarray, u: float
) -> np.ndarray:
    """``(A, 4)`` rounding bound of ``offset_inverse(anchors, offsets)`` whose value is
    ``decoded`` (corners)."""
    ca = _center(anchors)
    o = offsets.astype(np.float64)
    p = np.abs(o[:, :2] * ca[:, 2:] / 10)
    cd = _center(decoded)
    centre = 3 * u * p + 2 * u * _magnitude(anchors) + u * np.abs(cd[:, :2])
    half = (4 * u + u * np.abs(o[:, 2:]) / 5) * cd[:, 2:] / 2
    per_xy = centre + half
    return np.concatenate([per_xy, per_xy], axis=1) + u * np.abs(decoded)


def _encode(impl, a, b, eps) -> Call:
    return Call(impl, "offset_boxes", anchors=a, assigned_bb=b, eps=eps)


def _either_family(n=None):
    if n is None:
        n = sizes()
    return st.one_of(coding_problems(n, lattice=True), coding_problems(n, lattice=False))


# --- equivalence with the reference --------------------------------------------------------


@given(problem=_either_family(), eps=st.sampled_from(EPSILONS))
@example(  # the dog/cat anchors of the chapter, and a zero-width box
    problem=(
        np.array([[0.15, 0.2, 0.4, 0.4], [0.63, 0.05, 0.88, 0.98], [0, 0, 1, 1]], F32),
        np.array([[0.1, 0.08, 0.52, 0.92], [0.55, 0.2, 0.9, 0.88], [0.5, 0, 0.5, 1]], F32),
    ),
    eps=1e-6,
)
def test_offset_boxes_matches_reference(impl, problem, eps, conventions):
    """``offset_boxes`` is within its rounding bound of the reference, ``(A, 4)`` for every
    bucket of ``A`` (0 included)."""
    a, b = problem
    call = _encode(impl, a, b, eps)
    got = call()
    expected = conventions.reference.offset_boxes(a, b, eps)
    u = _unit_roundoff(got.dtype)
    assert_within(got, expected, coding_bound(a, b, expected, u), call, "offsets")


@given(problem=_either_family(), data=st.data())
def test_offset_inverse_matches_reference(impl, problem, data, conventions):
    """``offset_inverse`` is within its rounding bound of the reference, ``(A, 4)`` corners."""
    a, _ = problem
    o = data.draw(offset_preds(len(a)), label="offset_preds")
    call = Call(impl, "offset_inverse", anchors=a, offset_preds=o)
    got = call()
    expected = conventions.reference.offset_inverse(a, o)
    u = _unit_roundoff(got.dtype)
    assert_within(got, expected, decoding_bound(a, o, expected, u), call, "decoded corners")


@given(problem=coding_problems(sizes(13, min_size=1)))
def test_offset_boxes_default_eps_is_1e_6(impl, problem):
    """Without ``eps`` the offsets are those of ``eps = 1e-6``, bit for bit."""
    a, b = problem
    with_default = Call(impl, "offset_boxes", anchors=a, assigned_bb=b)
    check(
        np.array_equal(with_default(), _encode(impl, a, b, 1e-6)()),
        "offset_boxes(anchors, assigned_bb) differs from offset_boxes(anchors, assigned_bb, 1e-6)",
        with_default,
    )


# --- laws ----------------------------------------------------------------------------------


@given(problem=_either_family(sizes(34, min_size=1)), eps=st.sampled_from(EPSILONS))
@example(
    problem=(np.array([[0, 0, 1, 1]], F32), np.array([[0.25, 0.25, 0.75, 1.5]], F32)), eps=1e-6
)
def test_round_trip_recovers_boxes_up_to_eps(impl, problem, eps, conventions):
    """``offset_inverse(a, offset_boxes(a, b, eps))`` is ``b`` grown by ``eps w_a / 2`` on each
    side in x and ``eps h_a / 2`` in y, up to rounding: decoding gives the centre back and the
    width ``exp(log(eps + w_b / w_a)) w_a = w_b + eps w_a`` (so the contract's "equals ``b`` up
    to ``eps w_a`` in width and ``eps h_a`` in height" holds).

    Rounding, composing the two bounds of the module docstring: the centre comes back within
    ``8u (M_a + M_b)``, the width within ``(8u + u |o_w|) w``, each corner within their sum
    (half the width's) plus ``u |corner|``. The intermediate offsets are passed back as the
    implementation returned them.
    """
    a, b = problem
    encoded = _encode(impl, a, b, eps)()
    call = Call(impl, "offset_inverse", anchors=a, offset_preds=encoded)
    got = call()
    u = _unit_roundoff(got.dtype)
    a_in, b_in = conventions.received("offset_boxes", a, b)
    ca = _center(a_in)
    grow = eps * np.concatenate([-ca[:, 2:], ca[:, 2:]], axis=1) / 2
    expected = np.asarray(b_in, np.float64) + grow
    o = np.asarray(encoded, dtype=np.float64)
    cd = _center(expected)
    per_xy = (
        8 * u * (_magnitude(a) + _magnitude(b)) + (8 * u + u * np.abs(o[:, 2:])) * cd[:, 2:] / 2
    )
    bound = np.concatenate([per_xy, per_xy], axis=1) + u * np.abs(expected)
    assert_within(
        got,
        expected,
        bound,
        call,
        f"offset_inverse(a, offset_boxes(a, b, eps={eps})) vs b grown by eps * (w_a, h_a) / 2",
    )


@given(
    problem=coding_problems(sizes(13, min_size=1), lattice=True),
    tx=lattice_translations(),
    ty=lattice_translations(),
)
def test_offset_boxes_is_translation_invariant(impl, problem, tx, ty):
    """Translating anchors and boxes together leaves the offsets unchanged (each result within
    its own rounding bound of the same exact value). On the lattice only: there the translated
    coordinates are exact, off it the translation itself rounds the inputs."""
    a, b = problem
    shift = np.array([tx, ty, tx, ty], F32)
    a2, b2 = a + shift, b + shift
    before = _encode(impl, a, b, 1e-6)()
    call = _encode(impl, a2, b2, 1e-6)
    got = call()
    u = _unit_roundoff(got.dtype)
    exact = reference.offset_boxes(a, b, 1e-6)
    bound = coding_bound(a, b, exact, u) + coding_bound(a2, b2, exact, u)
    assert_within(got, before, bound, call, f"offsets after translating by ({tx}, {ty}) vs before")


@given(
    problem=_either_family(sizes(13, min_size=1)),
    sx=power_of_two_scales(),
    sy=power_of_two_scales(),
)
def test_offset_boxes_is_scale_invariant(impl, problem, sx, sy):
    """Scaling anchors and boxes by ``2**i`` in x and ``2**j`` in y leaves the offsets
    unchanged: ``d / w_a`` and ``w_b / w_a`` are scale-free, and ``eps`` is added to the
    scale-free ratio, so even the ``eps`` term does not move (each result within its rounding
    bound of the same exact value; an ``eps`` added to a width instead breaks it)."""
    a, b = problem
    scale = np.array([sx, sy, sx, sy], F32)
    a2, b2 = a * scale, b * scale
    before = _encode(impl, a, b, 1e-3)()
    call = _encode(impl, a2, b2, 1e-3)
    got = call()
    u = _unit_roundoff(got.dtype)
    exact = reference.offset_boxes(a, b, 1e-3)
    bound = coding_bound(a, b, exact, u) + coding_bound(a2, b2, exact, u)
    assert_within(got, before, bound, call, f"offsets after scaling by ({sx}, {sy}) vs before")


@given(problem=_either_family(sizes(13, min_size=1)), eps=st.sampled_from(EPSILONS), data=st.data())
@example(  # zero width, zero height, and a point
    problem=(
        np.array([[0, 0, 1, 1]] * 3, F32),
        np.array([[0.5, 0, 0.5, 1], [0, 0.5, 1, 0.5], [1, 1, 1, 1]], F32),
    ),
    eps=1e-6,
    data=None,
)
def test_zero_width_boxes_give_finite_offsets(impl, problem, eps, data, conventions):
    """A box of zero width (or height) has size offset ``5 log(eps)``, finite, not ``-inf``:
    the ``eps`` inside the log is what keeps ``log(0)`` away."""
    a, b = problem
    b = b.copy()
    if data is not None:  # collapse some boxes to zero width, zero height, or both
        for i in range(len(b)):
            how = data.draw(st.sampled_from(["width", "height", "both"]), label=f"collapse {i}")
            if how in ("width", "both"):
                b[i, 2] = b[i, 0]
            if how in ("height", "both"):
                b[i, 3] = b[i, 1]
    call = _encode(impl, a, b, eps)
    got = call()
    check(np.isfinite(got).all(), f"non-finite offsets for zero-width boxes: {got.tolist()}", call)
    zero = np.concatenate([np.zeros((len(b), 2), bool), (b[:, 2:] - b[:, :2]) == 0], axis=1)
    coded = conventions.reference.offset_boxes(a, b, eps)
    expected = np.where(zero, 5 * math.log(eps), coded)
    u = _unit_roundoff(got.dtype)
    assert_within(
        got, expected, coding_bound(a, b, expected, u), call, "offsets (5 log(eps) for a zero side)"
    )


@given(problem=_either_family(sizes(13, min_size=1)), eps=st.sampled_from(EPSILONS))
def test_anchor_codes_itself_and_zero_decodes_to_anchor(impl, problem, eps, conventions):
    """``offset_boxes(a, a, eps) == (0, 0, 5 log(1 + eps), 5 log(1 + eps))`` and
    ``offset_inverse(a, 0) == a`` (within rounding): known values, not from the reference."""
    a, _ = problem
    call = _encode(impl, a, a, eps)
    got = call()
    u = _unit_roundoff(got.dtype)
    expected = np.zeros((len(a), 4))
    expected[:, 2:] = 5 * math.log1p(eps)
    assert_within(
        got, expected, coding_bound(a, a, expected, u), call, "offsets of an anchor to itself"
    )
    zeros = np.zeros((len(a), 4), F32)
    call = Call(impl, "offset_inverse", anchors=a, offset_preds=zeros)
    got = call()
    u = _unit_roundoff(got.dtype)
    (a_in,) = conventions.received("offset_inverse", a)
    what = "anchors decoded from zero offsets"
    assert_within(got, a_in, decoding_bound(a, zeros, a, u), call, what)
