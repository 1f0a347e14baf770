"""Properties of ``multibox_prior(data, sizes, ratios)``.

For an ``H x W`` map, ``n`` sizes and ``m`` ratios the result is ``(1, H W (n + m - 1), 4)``;
anchor ``(i W + j)(n + m - 1) + k`` is centred on pixel ``(i, j)`` at
``((j + 0.5) / W, (i + 0.5) / H)`` and has the ``k``-th shape of ``(sizes[0..n-1], ratios[0])``
then ``(sizes[0], ratios[1..m-1])``; shape ``(s, r)`` has, in pixels, aspect ratio ``r`` and
geometric-mean side ``s H`` (normalised width ``s sqrt(r) H / W``, height ``s / sqrt(r)``).

Rounding: a coordinate is ``c -/+ half`` with ``c`` the pixel centre (one rounding: ``u |c|``)
and ``half`` the half side, a product of up to six rounded factors (the float32 size and ratio,
the square root, ``* H``, ``/ W``), so its error is at most ``2u |c| + 7u |half|`` with ``u``
the unit roundoff of the result's dtype. The tests allow ``8u (|c| + |half|)`` per coordinate
and propagate it to what they measure: the float32 tolerance alone (atol 1e-6) would not do,
coordinates reach 5 in magnitude.

Inputs: ``data`` is a float32 ``(1, C, H, W)`` array with ``H, W`` in (1, 2, 3, 5), sizes and
ratios are plain lists of 1 to 3 values from small buckets: at most 4 * 4 * 3 * 3 = 144
``(H, W, n, m)`` combinations, so a jitted implementation compiles at most 144 times.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_within, check
from .strategies import prior_problems

F32 = np.float32


def _prior_call(impl, data: np.ndarray, sizes: list[float], ratios: list[float]) -> Call:
    return Call(impl, "multibox_prior", data=data, sizes=sizes, ratios=ratios)


def _contract_shapes(sizes: list[float], ratios: list[float]) -> list[tuple[float, float]]:
    """The ``(s, r)`` of each of a pixel's anchors, in the contract's order."""
    return [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]


def _unit_roundoff(dtype) -> float:
    return float(np.finfo(dtype).eps) / 2


def _expected_parts(h: int, w: int, sizes, ratios) -> tuple[np.ndarray, np.ndarray]:
    """``(centre, half)``, each ``(H, W, K, 2)`` float64: pixel centres and half sides."""
    shapes = _contract_shapes(sizes, ratios)
    half = np.array([(s * math.sqrt(r) * h / w / 2, s / math.sqrt(r) / 2) for s, r in shapes])
    cy, cx = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
    centre = np.broadcast_to(np.stack([cx, cy], -1)[:, :, None, :], (h, w, len(shapes), 2))
    return centre, np.broadcast_to(half, (h, w, len(shapes), 2))


def _anchors(call: Call, h: int, w: int, k: int) -> tuple[np.ndarray, float]:
    """Run ``call``, check the shape; the anchors as ``(H, W, K, 4)`` float64 and the unit
    roundoff of the result's dtype."""
    __tracebackhide__ = True
    got = call()
    expected = (1, h * w * k, 4)
    check(got.shape == expected, f"anchors shape: got {got.shape}, expected {expected}", call)
    return got.astype(np.float64).reshape(h, w, k, 4), _unit_roundoff(got.dtype)


@given(problem=prior_problems())
@example(problem=(np.zeros((1, 3, 2, 5), F32), [0.75, 0.5, 0.25], [1.0, 2.0, 0.5]))
def test_multibox_prior_shape(impl, problem):
    """``(1, H W (n + m - 1), 4)`` floats: ``n + m - 1`` anchors on each of the ``H W`` pixels."""
    data, sizes, ratios = problem
    h, w = data.shape[-2:]
    call = _prior_call(impl, data, sizes, ratios)
    got = call()
    expected = (1, h * w * (len(sizes) + len(ratios) - 1), 4)
    check(got.shape == expected, f"anchors shape: got {got.shape}, expected {expected}", call)
    check(got.dtype.kind == "f", f"anchors dtype: got {got.dtype}, expected floats", call)


@given(problem=prior_problems())
@example(problem=(np.zeros((1, 1, 2, 3), F32), [0.5], [1.0]))  # rows and columns differ
def test_multibox_prior_anchor_index_and_pixel_centres(impl, problem):
    """Anchor ``(i W + j)(n + m - 1) + k`` is centred on pixel ``(i, j)``, at
    ``((j + 0.5) / W, (i + 0.5) / H)``: catches the missing half-pixel offset and pixels
    walked column by column."""
    data, sizes, ratios = problem
    h, w = data.shape[-2:]
    k = len(sizes) + len(ratios) - 1
    call = _prior_call(impl, data, sizes, ratios)
    a, u = _anchors(call, h, w, k)
    centre, half = _expected_parts(h, w, sizes, ratios)
    # The mean of two coordinates, each within 8u (|c| + |half|), plus float64 rounding here.
    bound = 8 * u * (np.abs(centre) + half) + 4 * np.finfo(np.float64).eps
    got_centre = (a[..., :2] + a[..., 2:]) / 2
    assert_within(
        got_centre,
        centre,
        bound,
        call,
        "anchor centre, indexed (i, j, k, x/y) for anchor (i * W + j) * (n + m - 1) + k",
    )


@given(problem=prior_problems())
@example(problem=(np.zeros((1, 1, 2, 5), F32), [0.5, 0.25], [1.0, 2.0]))  # H != W, r != 1
def test_multibox_prior_shapes_in_contract_order(impl, problem):
    """A pixel's anchor ``k`` has the ``k``-th shape ``(s, r)`` of ``(sizes[..], ratios[0])``
    then ``(sizes[0], ratios[1..])``: in pixels, aspect ratio ``width / height == r`` and
    geometric-mean side ``sqrt(width height) == s H``. Catches a missing ``H / W`` factor, an
    inverted ratio, and the shapes listed ratios first."""
    data, sizes, ratios = problem
    h, w = data.shape[-2:]
    shapes = _contract_shapes(sizes, ratios)
    call = _prior_call(impl, data, sizes, ratios)
    a, u = _anchors(call, h, w, len(shapes))
    centre, half = _expected_parts(h, w, sizes, ratios)
    # A side is a difference of two coordinates each within 8u (|c| + |half|): relative error
    # 8u (|c| + |half|) / |half|; the aspect ratio adds both sides' errors, the geometric mean
    # half of that (first order; the float64 arithmetic here adds a few ulps).
    rel = 8 * u * (np.abs(centre) + half) / half
    rel_w, rel_h = rel[..., 0], rel[..., 1]
    slack = 8 * np.finfo(np.float64).eps
    width_px = (a[..., 2] - a[..., 0]) * w
    height_px = (a[..., 3] - a[..., 1]) * h
    s = np.array([s for s, _ in shapes])
    r = np.array([r for _, r in shapes])
    with np.errstate(divide="ignore", invalid="ignore"):
        aspect = width_px / height_px
        side = np.sqrt(width_px * height_px)
    what = "anchor (i, j, k) of the shape list (sizes[:], ratios[0]) + (sizes[0], ratios[1:])"
    assert_within(
        aspect,
        np.broadcast_to(r, aspect.shape),
        r * (rel_w + rel_h + slack),
        call,
        f"pixel aspect ratio (width / height) of {what}: expected r",
    )
    assert_within(
        side,
        np.broadcast_to(s * h, side.shape),
        s * h * ((rel_w + rel_h) / 2 + slack),
        call,
        f"geometric-mean side in pixels of {what}: expected s * H",
    )


@given(problem=prior_problems())
def test_multibox_prior_matches_reference(impl, problem):
    """Every coordinate within its rounding bound ``8u (|c| + |half|)`` of the reference."""
    data, sizes, ratios = problem
    h, w = data.shape[-2:]
    k = len(sizes) + len(ratios) - 1
    call = _prior_call(impl, data, sizes, ratios)
    got = call()
    expected = reference.multibox_prior(data, sizes, ratios)
    check(got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}", call)
    centre, half = _expected_parts(h, w, sizes, ratios)
    u = _unit_roundoff(got.dtype)
    per_xy = 8 * u * (np.abs(centre) + half) + 4 * np.finfo(np.float64).eps  # (H, W, K, 2)
    bound = np.concatenate([per_xy, per_xy], axis=-1).reshape(1, h * w * k, 4)
    assert_within(got, expected, bound, call, "anchor coordinates vs the reference")


@given(problem=prior_problems(), data=st.data())
def test_multibox_prior_depends_only_on_map_size(impl, problem, data):
    """Only the last two dimensions of ``data`` matter: a plain ``(H, W)`` array, or one with
    other leading dimensions and arbitrary values, gives the same anchors bit for bit."""
    feature_map, sizes, ratios = problem
    h, w = feature_map.shape[-2:]
    lead = data.draw(st.sampled_from([(), (2,), (1, 4), (2, 1, 1)]), label="leading dimensions")
    values = np.arange(np.prod(lead + (h, w)), dtype=F32).reshape(lead + (h, w)) - 3
    before = _prior_call(impl, feature_map, sizes, ratios)()
    call = _prior_call(impl, values, sizes, ratios)
    got = call()
    check(
        got.shape == before.shape and np.array_equal(got, before),
        f"anchors for data of shape {values.shape} differ from those for shape {feature_map.shape}",
        call,
    )
