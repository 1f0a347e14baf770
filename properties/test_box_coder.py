"""Properties of ``BoxCoder(weights, bbox_xform_clip, eps)`` (CONTRACT.md §3.3).

``encode(reference_boxes, proposals)``, both in centre form, ``g`` the box and ``p`` the
proposal: ``(wx (g_x - p_x) / p_w, wy (g_y - p_y) / p_h, ww log(eps + g_w / p_w),
wh log(eps + g_h / p_h))``. ``decode(rel_codes, boxes)``: ``d = rel_codes / weights``, the size
codes clamped from above at ``bbox_xform_clip``, centre ``d_x p_w + p_x``, size
``exp(d_w) p_w``.

Rounding bounds (``u`` the unit roundoff of the result's dtype, ``M`` the largest coordinate
magnitude of a box, first order in ``u``; ``exp`` and ``log`` within 1 ulp, ``2u``):

- centre code ``wx d / p_w``: the centres within ``2u M`` each (one addition, an exact
  halving), ``d`` within ``2u (M_p + M_g) + u |d|``; the product, the quotient and ``p_w``
  add ``3u`` relative: ``|err| <= 2u wx (M_p + M_g) / p_w + 4u |code|``;
- size code ``ww log(eps + rho)``: ``rho`` carries ``3u``, the sum ``u``, so the log's
  argument ``4u`` relative, ``4u`` absolute on the log; the log ``2u`` and the weight ``u``
  relative: ``|err| <= 6u ww + 3u |code|``;
- decoded corner: ``d_x = o / wx`` and ``d_x p_w`` carry ``3u`` relative, the centre adds
  ``2u M_p + u |c|``; the width ``exp(min(o / ww, clip)) p_w`` carries ``(4u + u |d_w|)``
  relative (the argument's rounding times ``|d_w|``, ``exp``, the product, ``p_w``; ``min``
  is exact and 1-Lipschitz, and rounding the clamp to the dtype is within ``u |d_w|``); the
  corner ``u |corner|``.

Inputs: ``N`` from the size buckets; weights from ``CODER_WEIGHTS`` (Faster R-CNN's,
RetinaNet's, SSD's and a power-of-two set); boxes on the lattice or off it, some 2**k times
their proposal's size (past the default clamp ``log(1000 / 16)``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_within, check
from .asserts_detector import MethodCall
from .strategies import CODER_WEIGHTS, coder_problems, offset_preds, sizes

F32 = np.float32
DEFAULT_CLIP = math.log(1000.0 / 16)
EPSILONS = (0.0, 1e-6, 1e-3)
CLIPS = (DEFAULT_CLIP, math.inf, 1.0)
CTOR = ("weights", "bbox_xform_clip", "eps")


def encode_call(impl, w, clip, eps, g, p) -> MethodCall:
    return MethodCall(impl, "BoxCoder", CTOR, "encode", weights=w, bbox_xform_clip=clip,
                      eps=eps, reference_boxes=g, proposals=p)  # fmt: skip


def decode_call(impl, w, clip, eps, o, p) -> MethodCall:
    return MethodCall(impl, "BoxCoder", CTOR, "decode", weights=w, bbox_xform_clip=clip,
                      eps=eps, rel_codes=o, boxes=p)  # fmt: skip


def _u(dtype) -> float:
    return float(np.finfo(dtype).eps) / 2


def _center(b: np.ndarray) -> np.ndarray:
    """``(N, 4)`` center form, float64 (exact for float32 input)."""
    return reference.box_convert(np.asarray(b, np.float64), "xyxy", "cxcywh").reshape(-1, 4)


def _magnitude(b: np.ndarray) -> np.ndarray:
    """``(N, 2)``: the largest magnitude of each box's x and of its y coordinates."""
    return np.abs(np.asarray(b, np.float64)).reshape(-1, 2, 2).max(axis=1)


def encode_bound(w, g, p, codes, u) -> np.ndarray:
    """``(N, 4)`` rounding bound of ``encode`` whose value is ``codes`` (module docstring)."""
    w = np.asarray(w, np.float64)
    m = _magnitude(g) + _magnitude(p)
    xy = 2 * u * w[:2] * m / _center(p)[:, 2:] + 4 * u * np.abs(codes[:, :2])
    wh = 6 * u * w[2:] + 3 * u * np.abs(codes[:, 2:])
    return np.concatenate([xy, wh], axis=1)


def decode_bound(w, clip, o, p, decoded, u) -> np.ndarray:
    """``(N, 4)`` rounding bound of ``decode`` whose value is ``decoded`` (corners)."""
    w = np.asarray(w, np.float64)
    cp = _center(p)
    d = o.astype(np.float64) / w
    dwh = np.minimum(d[:, 2:], clip)
    shift = np.abs(d[:, :2] * cp[:, 2:])
    cd = _center(decoded)
    centre = 3 * u * shift + 2 * u * _magnitude(p) + u * np.abs(cd[:, :2])
    half = (4 * u + u * np.abs(dwh)) * cd[:, 2:] / 2
    per_xy = centre + half
    return np.concatenate([per_xy, per_xy], axis=1) + u * np.abs(decoded)


def coder_inputs():
    """``(weights, eps, (reference_boxes, proposals))``; zero-size boxes only with eps > 0."""
    return st.sampled_from(CODER_WEIGHTS).flatmap(
        lambda w: st.sampled_from(EPSILONS).flatmap(
            lambda e: st.tuples(
                st.just(w),
                st.just(e),
                st.booleans().flatmap(
                    lambda lat: coder_problems(sizes(), lattice=lat, degenerate=e > 0)
                ),
            )
        )
    )


# --- equivalence with the reference ------------------------------------------------------


@given(inputs=coder_inputs())
def test_encode_matches_reference(impl, inputs):
    """``encode`` is within its rounding bound of the reference, ``(N, 4)``."""
    w, eps, (g, p) = inputs
    call = encode_call(impl, w, DEFAULT_CLIP, eps, g, p)
    got = call()
    expected = reference.BoxCoder(w, DEFAULT_CLIP, eps).encode(g, p)
    assert_within(got, expected, encode_bound(w, g, p, expected, _u(got.dtype)), call, "codes")


@given(inputs=coder_inputs(), clip=st.sampled_from(CLIPS), data=st.data())
def test_decode_matches_reference(impl, inputs, clip, data):
    """``decode`` is within its rounding bound of the reference for codes on both sides of
    the clamp (the clip 1.0 clamps size codes above ``ww``)."""
    w, eps, (_, p) = inputs
    o = data.draw(offset_preds(len(p)), label="rel_codes")
    call = decode_call(impl, w, clip, eps, o, p)
    got = call()
    expected = reference.BoxCoder(w, clip, eps).decode(o, p)
    bound = decode_bound(w, clip, o, p, expected, _u(got.dtype))
    assert_within(got, expected, bound, call, "decoded boxes")


# --- laws ------------------------------------------------------------------------------------


@given(inputs=coder_inputs(), clip=st.sampled_from(CLIPS))
@example(  # a box 128 times its proposal: clamped at exp(log(1000/16)) = 62.5 times
    inputs=((10.0, 10.0, 5.0, 5.0), 0.0,
            (np.array([[-63.5, -63.5, 64.5, 64.5]], F32), np.array([[0, 0, 1, 1]], F32))),
    clip=DEFAULT_CLIP,
)  # fmt: skip
@example(  # a box 1/128 of its proposal: never clamped from below
    inputs=((1.0, 1.0, 1.0, 1.0), 0.0,
            (np.array([[0.5, 0.5, 0.5078125, 0.5078125]], F32), np.array([[0, 0, 1, 1]], F32))),
    clip=DEFAULT_CLIP,
)  # fmt: skip
def test_decode_of_encode_is_the_box_clamped_from_above(impl, inputs, clip):
    """``decode(encode(g, p), p)`` has ``g``'s centre and the size ``min(g_w + eps p_w,
    exp(clip) p_w)`` (in y the same): ``g`` itself, grown by ``eps`` like the chapter's
    coding, and only too large sizes clamped; small ones come back as they were. Rounding:
    the two bounds of the module docstring composed (each corner within the decoding bound
    of the exact result plus the encoding bound scaled by ``p_w / wx``, and by the width for
    the size codes)."""
    w, eps, (g, p) = inputs
    codes = encode_call(impl, w, clip, eps, g, p)()
    call = decode_call(impl, w, clip, eps, codes, p)
    got = call()
    u = _u(got.dtype)
    cp, cg = _center(p), _center(g)
    size = np.minimum(cg[:, 2:] + eps * cp[:, 2:], math.exp(min(clip, 700)) * cp[:, 2:])
    expected = np.concatenate([cg[:, :2] - size / 2, cg[:, :2] + size / 2], axis=1)
    exact_codes = reference.BoxCoder(w, clip, eps).encode(g, p)
    ebound = encode_bound(w, g, p, exact_codes, u)
    wts = np.asarray(w, np.float64)
    from_codes = ebound[:, :2] * cp[:, 2:] / wts[:2] + ebound[:, 2:] * size / wts[2:] / 2
    bound = decode_bound(w, clip, exact_codes, p, expected, u) + np.tile(from_codes, 2)
    what = f"decode(encode(g)) vs g grown by eps p/2 and clamped at exp({clip:.4g}) p"
    assert_within(got, expected, bound, call, what)


@given(inputs=coder_inputs())
def test_proposal_codes_itself_and_zero_decodes_to_proposal(impl, inputs):
    """``encode(p, p) = (0, 0, ww log(1 + eps), wh log(1 + eps))`` and ``decode(0, p) = p``
    (within rounding): known values, not from the reference."""
    w, eps, (_, p) = inputs
    call = encode_call(impl, w, DEFAULT_CLIP, eps, p, p)
    got = call()
    expected = np.zeros((len(p), 4))
    expected[:, 2:] = np.asarray(w[2:]) * math.log1p(eps)
    bound = encode_bound(w, p, p, expected, _u(got.dtype))
    assert_within(got, expected, bound, call, "codes of a proposal against itself")
    call = decode_call(impl, w, DEFAULT_CLIP, eps, np.zeros((len(p), 4), F32), p)
    got = call()
    bound = decode_bound(w, DEFAULT_CLIP, np.zeros((len(p), 4)), p, p, _u(got.dtype))
    assert_within(got, p, bound, call, "proposals decoded from zero codes")


@given(problem=st.booleans().flatmap(lambda lat: coder_problems(sizes(13), lattice=lat)))
@example(problem=(np.array([[0.5, 0, 0.5, 1]], F32), np.array([[0, 0, 1, 1]], F32)))
def test_chapter_coding_is_the_coder_with_10_10_5_5(impl, problem):
    """``offset_boxes(a, b, eps) = BoxCoder((10, 10, 5, 5), eps=eps).encode(b, a)`` and
    ``offset_inverse(a, o) = BoxCoder((10, 10, 5, 5), bbox_xform_clip=inf).decode(o, a)``,
    each within the sum of both results' rounding bounds (CONTRACT.md §2.5, §2.6, §3.3)."""
    g, p = problem
    w, eps = (10.0, 10.0, 5.0, 5.0), 1e-6
    call = encode_call(impl, w, math.inf, eps, g, p)
    got = call()
    chapter = Call(impl, "offset_boxes", anchors=p, assigned_bb=g, eps=eps)()
    exact = reference.offset_boxes(p, g, eps)
    bound = 2 * encode_bound(w, g, p, exact, _u(got.dtype))
    assert_within(got, chapter, bound, call, "BoxCoder((10, 10, 5, 5), eps).encode vs offset_boxes")
    o = np.clip(exact, -30, 30).astype(F32)
    call = decode_call(impl, w, math.inf, eps, o, p)
    got = call()
    chapter = Call(impl, "offset_inverse", anchors=p, offset_preds=o)()
    exact = reference.offset_inverse(p, o)
    bound = 2 * decode_bound(w, math.inf, o, p, exact, _u(got.dtype))
    assert_within(got, chapter, bound, call, "BoxCoder((10, 10, 5, 5)).decode vs offset_inverse")


# --- bad input -------------------------------------------------------------------------------

_G = np.array([[0, 0, 1, 1], [0, 0, 0.5, 0.5]], F32)


@pytest.mark.parametrize(
    ("name", "weights", "clip", "eps"),
    [
        ("weights", (1, 1, 1), DEFAULT_CLIP, 0.0),
        ("weights", (1, 1, 0, 1), DEFAULT_CLIP, 0.0),
        ("weights", (1, 1, -5, 1), DEFAULT_CLIP, 0.0),
        ("weights", (1, 1, np.nan, 1), DEFAULT_CLIP, 0.0),
        ("bbox_xform_clip", (1, 1, 1, 1), math.nan, 0.0),
        ("eps", (1, 1, 1, 1), DEFAULT_CLIP, -1e-6),
        ("eps", (1, 1, 1, 1), DEFAULT_CLIP, math.inf),
    ],
)
def test_box_coder_rejects_bad_parameters(impl, name, weights, clip, eps):
    """``ValueError`` naming the parameter: weights not four positive finite numbers, a NaN
    clamp, an ``eps`` that is not a finite number >= 0."""
    with pytest.raises(ValueError, match=f"^{name}"):
        impl.BoxCoder(weights, clip, eps)


@pytest.mark.parametrize(
    ("name", "method", "a", "b", "eps"),
    [
        ("proposals", "encode", _G, [[0, 0, 0, 1], [0, 0, 1, 1]], 1e-6),  # zero width
        ("reference_boxes", "encode", [[0, 0, 1, 0], [0, 0, 1, 1]], _G, 0.0),  # log(0)
        ("reference_boxes", "encode", [[1, 0, 0, 1], [0, 0, 1, 1]], _G, 1e-6),  # x2 < x1
        ("reference_boxes", "encode", [[0, 0, 1, 1]], _G, 1e-6),  # lengths
        ("proposals", "encode", _G, [[0, np.nan, 1, 1], [0, 0, 1, 1]], 1e-6),
        ("rel_codes", "decode", [[0, 0, np.inf, 0], [0, 0, 0, 0]], _G, 0.0),
        ("rel_codes", "decode", [[0, 0, 0]], _G, 0.0),
        ("rel_codes", "decode", [[0, 0, 0, 0]], _G, 0.0),  # lengths
        ("boxes", "decode", [[0, 0, 0, 0], [0, 0, 0, 0]], [[1, 0, 0, 1], [0, 0, 1, 1]], 0.0),
        ("rel_codes", "decode", [[0, 0, 1e4, 0], [0, 0, 0, 0]], _G, 0.0),  # overflows
    ],
)
def test_box_coder_rejects_bad_input(impl, name, method, a, b, eps):
    """``ValueError`` naming the argument: proposals of zero size (encode divides by them), a
    zero-size box with ``eps = 0`` (``log(0)``), invalid boxes, mismatched lengths,
    non-finite codes, and codes that overflow once unclamped (``bbox_xform_clip = inf``)."""
    make = encode_call if method == "encode" else decode_call
    call = make(impl, (1.0, 1.0, 1.0, 1.0), math.inf, eps, np.asarray(a, F32), np.asarray(b, F32))
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


def test_box_coder_of_no_boxes(impl):
    """Zero boxes code and decode to ``(0, 4)``."""
    empty = np.zeros((0, 4), F32)
    for call in (
        encode_call(impl, (1.0, 1.0, 1.0, 1.0), DEFAULT_CLIP, 0.0, empty, empty),
        decode_call(impl, (1.0, 1.0, 1.0, 1.0), DEFAULT_CLIP, 0.0, empty, empty),
    ):
        got = call()
        check(got.shape == (0, 4), f"shape: got {got.shape}, expected (0, 4)", call)
