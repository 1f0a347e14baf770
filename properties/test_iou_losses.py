"""Properties of the GIoU family (CONTRACT.md §3.5): pairwise ``generalized_box_iou``,
``distance_box_iou``, ``complete_box_iou`` and the elementwise ``*_loss`` functions, with
their gradients.

The leaves (``reference.iou_losses``): ``inter``, ``union``, ``enclosing`` (``C``), ``c2`` (the
enclosing box's squared diagonal), ``rho2`` (squared distance of the centres), the aspect
angles ``theta = atan2(w, h)`` and ``v = 4 / pi**2 (theta2 - theta1)**2``. Losses, ``e`` the
``eps``: GIoU ``1 - I / (U + e) + (C - U) / (C + e)``; DIoU ``1 - I / (U + e) + rho2 / (c2 + e)``;
CIoU the DIoU loss ``+ alpha v``, ``alpha = v / (1 - I / (U + e) + v + e)`` held constant.
A quotient with a zero denominator is 0.

**Values.** Rounding, first order in the unit roundoff ``u`` of the result's dtype, ``m`` the
largest coordinate magnitude of a box (x and y apart): lengths (differences of inputs) carry
``u`` relative, products of two ``3u``; ``U = a1 + a2 - I`` is within ``5u (a1 + a2 + I)``;
the centre offset ``dx`` within ``u (m1 + m2 + |dx|)``, so ``rho2`` within
``2 |dx| err(dx) + 2 |dy| err(dy) + 2u rho2``; ``dtheta = theta2 - theta1`` within ``8u``
(two ``atan2`` of arguments within ``u`` relative, or one ``atan2`` of the difference vector
``(h1 w2 - w1 h2, h1 h2 + w1 w2)``, each component within ``3u`` of its length ``r1 r2``),
so ``v`` within ``16 K |dtheta| u + 2u v``. Then ``err(I / D) <= (I / D) (5u + err(U) / D)``;
``err((C - U) / (C + e)) <= (3u C + err(U) + u (C + U)) / (C + e) + 4u |P|``;
``err(rho2 / (c2 + e)) <= err(rho2) / (c2 + e) + 6u R``; ``err(alpha v) <= 2 alpha err(v) +
alpha**2 err(den)`` with ``err(den) <= 3u + err(iou) + err(v)``; the final sum
``2u (1 + iou + |P| + R + alpha v)``. The tests allow twice the sum (:func:`value_bound`).

**Gradients.** ``jax.grad`` of an implementation's loss (or its ``*_loss_grad`` where it has
one, as the reference does) against the reference's chain rule in float64, conventions
included (a tie of ``min``/``max`` passes half to each; no gradient through a non-overlap;
none through a point's angle; none through a zero denominator: CONTRACT.md §3.5). Kinks are
decided exactly in any precision: they are comparisons of input coordinates and signs of
their differences. The gradient is a sum over leaves of ``dL/dleaf * dleaf/dx``; automatic
differentiation of the forward formula computes each adjoint as a sum of terms whose
absolute values add up to the *magnitudes* of :func:`adjoint_magnitudes` (e.g. ``dL/dC =
1 / (C + e) - (C - U) / (C + e)**2`` for GIoU), every factor within ``40u`` relative except the
centre offsets (absolute ``u (m1 + m2 + |dx|)``), ``rho2`` (above), ``dtheta`` (``8u``),
``alpha`` (``err(alpha) <= min(1, alpha err(den) / den + err(v) / den)``) and the angles'
derivatives: ``h / r**2`` and ``w / r**2`` in value, but differences of terms up to
``(w + h) / r**2`` when the angle difference is one ``atan2`` (with a zero height,
``d theta / dw`` is ``1 / w - 1 / w``; Hypothesis found it). So
``|got - exact| <= 64u sum_leaf |adj|_mag |dleaf|`` plus the absolute terms
(:func:`gradient_bound`). In float64 (``jax.enable_x64``) the same bound with ``u = 2**-53``
pins the formula itself.

Inputs: :func:`properties.strategies.loss_pairs`: identical, nested, touching,
corner-touching, crossing, apart, degenerate and point pairs, on the lattice or scaled and
moved off it; ``N`` from ``sizes(13)``, or 1, 5 and 13, or 13 alone for the gradients (a
jitted implementation compiles once per shape and function); ``eps`` 0 or ``1e-7``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import reference
from reference.iou_losses import K_V, leaf_partials, loss_parts

from .asserts import Call, assert_within, check
from .strategies import loss_pairs, power_of_two_scales, sizes

F32 = np.float32
KINDS = {"giou": "generalized_box_iou", "diou": "distance_box_iou", "ciou": "complete_box_iou"}
EPSILONS = (0.0, 1e-7)
# A jitted implementation compiles once per shape and function: the gradient tests use one
# shape (13 pairs, every kind of pair in most examples), the others a few.
GRAD_SIZES = st.just(13)
FEW_SIZES = st.sampled_from((1, 5, 13))


def _u(dtype) -> float:
    return float(np.finfo(dtype).eps) / 2


def _div(n, d):
    n, d = np.broadcast_arrays(np.asarray(n, np.float64), np.asarray(d, np.float64))
    out = np.zeros(n.shape)
    np.divide(n, d, out=out, where=d != 0)
    return out


def _errors(b1: np.ndarray, b2: np.ndarray, p: dict, u: float, eps: float) -> dict:
    """First-order absolute rounding errors of the intermediate quantities (docstring)."""
    b1, b2 = np.abs(b1.astype(np.float64)), np.abs(b2.astype(np.float64))
    mx = np.maximum(b1[..., 0], b1[..., 2]) + np.maximum(b2[..., 0], b2[..., 2])
    my = np.maximum(b1[..., 1], b1[..., 3]) + np.maximum(b2[..., 1], b2[..., 3])
    e = {"dx": u * (mx + np.abs(p["dx"])), "dy": u * (my + np.abs(p["dy"]))}
    e["union"] = 5 * u * (p["area1"] + p["area2"] + p["inter"])
    e["rho2"] = 2 * np.abs(p["dx"]) * e["dx"] + 2 * np.abs(p["dy"]) * e["dy"] + 2 * u * p["rho2"]
    dtheta = p["theta2"] - p["theta1"]
    e["dtheta"] = 8 * u + 0 * dtheta
    v = K_V * dtheta**2
    e["v"] = 2 * K_V * np.abs(dtheta) * e["dtheta"] + 2 * u * v
    d = p["union"] + eps
    iou = _div(p["inter"], d)
    e["iou"] = iou * 5 * u + _div(iou * e["union"], d)
    den = 1 - iou + v + eps
    e["den"] = 3 * u + e["iou"] + e["v"]
    alpha = _div(v, den)
    e["alpha"] = np.minimum(1.0, _div(alpha * e["den"] + e["v"], den))
    return {**e, "v_value": v, "iou_value": iou, "alpha_value": alpha}


def value_bound(kind: str, b1, b2, eps: float, u: float, pairwise: bool = False) -> np.ndarray:
    """Twice the first-order rounding bound of a loss (or of a pairwise value: the IoU without
    ``eps``) whose float64 leaves are those of ``b1``, ``b2`` (module docstring)."""
    p = loss_parts(b1.astype(np.float64), b2.astype(np.float64))
    e = _errors(b1, b2, p, u, 0.0 if pairwise else eps)
    iou, total = e["iou_value"], 1 + e["iou_value"]
    err = e["iou"]
    if kind == "giou":
        ce = p["enclosing"] + (0.0 if pairwise else eps)
        pen = _div(p["enclosing"] - p["union"], ce)
        err = err + _div(
            3 * u * p["enclosing"] + e["union"] + u * (p["enclosing"] + p["union"]), ce
        )
        err = err + 4 * u * np.abs(pen)
        total = total + np.abs(pen)
    else:
        ce = p["c2"] + eps
        r = _div(p["rho2"], ce)
        err = err + _div(e["rho2"], ce) + 6 * u * r
        total = total + r
        if kind == "ciou":
            alpha, v = e["alpha_value"], e["v_value"]
            if pairwise:  # the pairwise CIoU's alpha uses the IoU without eps
                alpha = _div(v, 1 - iou + v + eps)
            err = err + 2 * alpha * e["v"] + alpha**2 * e["den"] + e["alpha"] * v
            total = total + alpha * v
    return 2 * (err + 2 * u * total)


def adjoint_magnitudes(kind: str, p: dict, eps: float) -> dict:
    """For each leaf, the sum of the absolute values of the terms automatic differentiation
    adds up into ``dL / dleaf`` (module docstring)."""
    d = p["union"] + eps
    inv_d, i_d2 = _div(1.0, d), _div(p["inter"], d**2)
    zero = np.zeros_like(d)
    mag = dict.fromkeys(("enclosing", "rho2", "c2", "theta1", "theta2"), zero)
    mag["inter"] = inv_d + i_d2
    mag["area1"] = mag["area2"] = i_d2
    if kind == "giou":
        ce = p["enclosing"] + eps
        mag["inter"] = mag["inter"] + _div(1.0, ce)
        mag["area1"] = mag["area2"] = i_d2 + _div(1.0, ce)
        mag["enclosing"] = _div(1.0, ce) + _div(p["enclosing"] + p["union"], ce**2)
        return mag
    ce = p["c2"] + eps
    mag["rho2"] = _div(1.0, ce)
    mag["c2"] = _div(p["rho2"], ce**2)
    return mag


def gradient_bound(kind: str, b1, b2, eps: float, u: float) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 4)`` bounds on the gradients by ``b1`` and by ``b2`` (module docstring)."""
    b1, b2 = b1.astype(np.float64), b2.astype(np.float64)
    p = loss_parts(b1, b2)
    partials = leaf_partials(b1, b2, p)
    mag = adjoint_magnitudes(kind, p, eps)
    e = _errors(b1, b2, p, u, eps)
    bound = 64 * u * sum(mag[k][..., None] * np.abs(partials[k]) for k in mag)
    if kind != "giou":
        ce = p["c2"] + eps
        # The centre offsets in d rho2 / dx, and rho2 in dL / dc2, carry absolute errors.
        off = np.stack([e["dx"], e["dy"]] * 4, axis=-1)
        bound = bound + _div(1.0, ce)[..., None] * off
        bound = bound + _div(e["rho2"], ce**2)[..., None] * np.abs(partials["c2"])
    if kind == "ciou":
        dtheta = np.abs(p["theta2"] - p["theta1"])
        adjoint = 2 * K_V * e["alpha_value"] * dtheta
        coef = 64 * u * adjoint + 2 * K_V * (e["alpha"] * dtheta + e["alpha_value"] * e["dtheta"])
        zero = np.zeros_like(dtheta)
        for box, (w, h) in enumerate(((p["w1"], p["h1"]), (p["w2"], p["h2"]))):
            # |d theta / dw| = h / r**2 and |d theta / dh| = w / r**2, but computed from the
            # two boxes' vectors (one atan2 of their difference) each is a difference of
            # terms as large as (w + h) / r**2 (for h = 0 it is w / w**2 - w / w**2): that is
            # the magnitude the rounding scales with.
            scale = _div(w + h, w**2 + h**2)
            own, other = [scale] * 4, [zero] * 4
            mag_partial = np.stack(own + other if box == 0 else other + own, axis=-1)
            bound = bound + coef[..., None] * mag_partial
    return bound[..., :4], bound[..., 4:]


def loss_call(impl, kind, b1, b2, reduction="none", eps=1e-7) -> Call:
    return Call(impl, f"{KINDS[kind]}_loss", boxes1=b1, boxes2=b2, reduction=reduction, eps=eps)


def pairwise_call(impl, kind, b1, b2, eps=1e-7) -> Call:
    if kind == "giou":
        return Call(impl, "generalized_box_iou", boxes1=b1, boxes2=b2)
    return Call(impl, KINDS[kind], boxes1=b1, boxes2=b2, eps=eps)


_JITTED_GRADS: dict = {}


def _jitted_grad(loss, eps: float, dtype, traced_eps: bool):
    """``jax.jit(jax.grad(summed loss))``, cached: ``eps`` traced (one compile per shape for
    every ``eps``) or, for an implementation that reads ``eps`` on the host, static."""
    import jax

    key = (id(loss), np.dtype(dtype).name, traced_eps, None if traced_eps else eps)
    if key not in _JITTED_GRADS:

        def summed(a, b, e):
            return loss(a, b, "sum", e if traced_eps else eps)

        _JITTED_GRADS[key] = jax.jit(jax.grad(summed, argnums=(0, 1)))
    return _JITTED_GRADS[key]


def loss_grad(impl, kind: str, b1, b2, eps: float, dtype=np.float32):
    """``(d/dboxes1, d/dboxes2)`` of the summed loss: the implementation's ``*_loss_grad``
    when it has one, else ``jax.grad`` of its loss (in ``dtype``, float64 under x64),
    jitted and cached."""
    name = f"{KINDS[kind]}_loss"
    if impl.has(f"{name}_grad"):
        g1, g2 = getattr(impl, f"{name}_grad")(b1, b2, eps)
        return np.asarray(g1), np.asarray(g2)
    import jax
    import jax.numpy as jnp

    loss = getattr(impl, name)
    with jax.enable_x64(dtype == np.float64):
        args = (jnp.asarray(b1, dtype), jnp.asarray(b2, dtype), jnp.asarray(eps, dtype))
        try:
            try:
                g1, g2 = _jitted_grad(loss, eps, dtype, traced_eps=True)(*args)
            except TypeError:  # eps read on the host: compile it in
                g1, g2 = _jitted_grad(loss, eps, dtype, traced_eps=False)(*args)
        except TypeError as err:  # a tracer reached NumPy: not a JAX implementation
            pytest.skip(f"{name} of {impl.name} is not differentiable with jax.grad: {err}")
        return np.asarray(g1), np.asarray(g2)


def pairs(n=None):
    n = sizes(13) if n is None else n
    return st.booleans().flatmap(lambda lattice: loss_pairs(n, lattice=lattice))


# --- values ----------------------------------------------------------------------------------


@given(bb=pairs(), eps=st.sampled_from(EPSILONS))
@example(  # a degenerate box with itself: loss 1 (pytorch/vision #7746 expected 0; #3404 NaN)
    bb=(np.array([[0, 0, 0, 0], [0, 0, 1, 0]], F32),) * 2, eps=1e-7
)
def test_loss_matches_reference(impl, bb, eps):
    """Each loss, ``reduction="none"``, is within its rounding bound of the reference."""
    for kind in KINDS:
        b1, b2 = bb
        call = loss_call(impl, kind, b1, b2, "none", eps)
        got = call()
        expected = getattr(reference, f"{KINDS[kind]}_loss")(b1, b2, "none", eps)
        bound = value_bound(kind, b1, b2, eps, _u(got.dtype))
        assert_within(got, expected, bound, call, f"{kind} loss")


@given(bb=pairs(FEW_SIZES))
def test_loss_reductions(impl, bb):
    """``"sum"`` and ``"mean"`` are the sum and the mean of ``"none"`` (within the sum of the
    bounds), scalars; the mean of no boxes is 0."""
    for kind in KINDS:
        b1, b2 = bb
        each = loss_call(impl, kind, b1, b2, "none")()
        bound = float(value_bound(kind, b1, b2, 1e-7, _u(each.dtype)).sum()) + 4 * _u(each.dtype)
        for reduction, expected in (("sum", each.sum()), ("mean", each.mean())):
            call = loss_call(impl, kind, b1, b2, reduction)
            got = call()
            check(got.shape == (), f"{reduction}: shape {got.shape}, expected a scalar", call)
            assert_within(got, expected, bound * (1 if reduction == "sum" else 1 / len(b1)), call,
                          f"{reduction} of the losses")  # fmt: skip
        empty = np.zeros((0, 4), F32)
        call = loss_call(impl, kind, empty, empty, "mean")
        check(float(call()) == 0.0, "the mean loss of no boxes must be 0", call)


@given(bb=pairs(FEW_SIZES), m=st.sampled_from((0, 3, 13)))
def test_pairwise_matches_reference(impl, bb, m):
    """Each pairwise function, ``(N, M)``, is within its rounding bound of the reference
    (the IoU of CONTRACT.md §2.3: 0, never NaN, for two boxes of zero area)."""
    b1, b2 = bb
    b2 = b2[:m]
    for kind in KINDS:
        call = pairwise_call(impl, kind, b1, b2)
        got = call()
        args = (b1, b2) if kind == "giou" else (b1, b2, 1e-7)
        expected = getattr(reference, KINDS[kind])(*args)
        bound = value_bound(kind, b1[:, None], b2[None, :], 1e-7, _u(got.dtype), pairwise=True)
        assert_within(got, expected, bound, call, f"pairwise {kind}")


# --- laws ------------------------------------------------------------------------------------


@given(bb=pairs())
def test_loss_without_eps_is_one_minus_pairwise(impl, bb):
    """With ``eps = 0`` each loss is ``1 -`` the diagonal of its pairwise function (within
    the sum of the two bounds): the losses and the pairwise values are the same formulas."""
    for kind in KINDS:
        b1, b2 = bb
        call = loss_call(impl, kind, b1, b2, "none", 0.0)
        got = call()
        pw = pairwise_call(impl, kind, b1, b2, 0.0)()
        diag = np.diagonal(pw) if pw.size else np.zeros(0)
        u = _u(got.dtype)
        bound = value_bound(kind, b1, b2, 0.0, u) + value_bound(kind, b1, b2, 0.0, u, pairwise=True)
        assert_within(got, 1 - diag, bound, call, f"{kind} loss (eps=0) vs 1 - pairwise")


@given(bb=pairs(), eps=st.sampled_from(EPSILONS))
def test_loss_is_symmetric(impl, bb, eps):
    """``loss(b1, b2) == loss(b2, b1)`` (within twice the bound): torchvision documents the
    three losses as symmetric."""
    for kind in KINDS:
        b1, b2 = bb
        call = loss_call(impl, kind, b2, b1, "none", eps)
        got = call()
        before = loss_call(impl, kind, b1, b2, "none", eps)()
        bound = 2 * value_bound(kind, b1, b2, eps, _u(got.dtype))
        assert_within(got, before, bound, call, f"{kind} loss with the boxes swapped")


@given(
    bb=loss_pairs(sizes(13), lattice=True),
    scale=power_of_two_scales(6),
    shift=st.integers(-128, 128).map(lambda k: k / 64),
)
def test_loss_is_translation_and_scale_invariant_on_lattice(impl, bb, scale, shift):
    """Moving both boxes by a lattice vector and scaling them by ``2**k`` (``eps = 0``, which
    would not scale) gives bit-identical losses: every length scales exactly, and each
    quotient is a ratio of like powers."""
    for kind in KINDS:
        b1, b2 = bb
        before = loss_call(impl, kind, b1, b2, "none", 0.0)()
        moved = [((b.astype(np.float64) + shift) * scale).astype(F32) for b in (b1, b2)]
        call = loss_call(impl, kind, moved[0], moved[1], "none", 0.0)
        got = call()
        check(np.array_equal(got, before),
              f"{kind} loss moved by {shift} and scaled by {scale}: got {got.tolist()}, "
              f"expected {before.tolist()} (bit for bit)", call)  # fmt: skip


@given(bb=loss_pairs(sizes(8, min_size=1), lattice=True))
@example(bb=(np.array([[0, 0, 1, 1], [1, 1, 1, 1]], F32),) * 2)
def test_loss_of_identical_boxes(impl, bb):
    """A box with itself: ``eps / (area + eps)`` for a box of positive area (0 with
    ``eps = 0``), and 1 for a box of zero area (its IoU is 0, CONTRACT.md §2.3, and every
    penalty is 0). Known values, not from the reference; NaN for CIoU here was
    ultralytics/yolov5 #2376."""
    for kind in KINDS:
        b, _ = bb
        area = (b[:, 2] - b[:, 0]).astype(np.float64) * (b[:, 3] - b[:, 1])
        for eps in EPSILONS:
            call = loss_call(impl, kind, b, b, "none", eps)
            got = call()
            expected = np.where(area > 0, _div(eps, area + eps), 1.0)
            assert_within(
                got, expected, 8 * _u(got.dtype), call, f"{kind} loss of a box with itself"
            )


@given(bb=pairs())
def test_giou_is_in_minus_one_one(impl, bb):
    """Pairwise GIoU lies in ``[-1, 1]`` (within rounding), and is exactly 1 for a box of
    positive area with itself."""
    b1, b2 = bb
    call = pairwise_call(impl, "giou", b1, b2)
    got = call()
    tol = 8 * _u(got.dtype)
    check(bool(np.all((got >= -1 - tol) & (got <= 1 + tol))), f"GIoU outside [-1, 1]: {got}", call)
    positive = (b1[:, 2] > b1[:, 0]) & (b1[:, 3] > b1[:, 1])
    call = pairwise_call(impl, "giou", b1[positive], b1[positive])
    diag = np.diagonal(call())
    check(bool(np.all(diag == 1)), f"GIoU of boxes with themselves: {diag.tolist()}", call)


# --- gradients -------------------------------------------------------------------------------


@given(bb=pairs(GRAD_SIZES), eps=st.sampled_from(EPSILONS))
@example(  # identical, a point with itself, a flat box inside another, touching, nested
    bb=(np.array([[0, 0, 1, 1], [1, 1, 1, 1], [0, 0.5, 1, 0.5], [0, 0, 1, 1], [0, 0, 1, 1]], F32),
        np.array([[0, 0, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1], [1, 0, 2, 1], [0.25, 0, 1, 1]], F32)),
    eps=0.0,
)  # fmt: skip
def test_loss_gradient_matches_reference(impl, bb, eps):
    """The gradient of the summed loss is finite, never NaN, and within the derived bound of
    the reference's chain rule (conventions at kinks included), for identical, degenerate,
    touching and nested boxes too."""
    for kind in KINDS:
        b1, b2 = bb
        g1, g2 = loss_grad(impl, kind, b1, b2, eps)
        call = loss_call(impl, kind, b1, b2, "sum", eps)
        finite = bool(np.isfinite(g1).all() and np.isfinite(g2).all())
        check(finite, f"{kind} loss gradient not finite: {g1.tolist()}, {g2.tolist()}", call)
        e1, e2 = getattr(reference, f"{KINDS[kind]}_loss_grad")(b1, b2, eps)
        bound1, bound2 = gradient_bound(kind, b1, b2, eps, _u(g1.dtype))
        assert_within(g1, e1, bound1, call, f"d {kind} loss / d boxes1")
        assert_within(g2, e2, bound2, call, f"d {kind} loss / d boxes2")


@given(bb=pairs(GRAD_SIZES), eps=st.sampled_from(EPSILONS))
def test_loss_gradient_in_float64(impl, bb, eps):
    """In float64 (``jax.enable_x64`` for a JAX implementation) the gradient is within the
    same bound with ``u = 2**-53``: it is the reference's formula, not only close to it."""
    for kind in KINDS:
        b1, b2 = bb
        g1, g2 = loss_grad(impl, kind, b1, b2, eps, np.float64)
        call = loss_call(impl, kind, b1.astype(np.float64), b2.astype(np.float64), "sum", eps)
        check(g1.dtype == np.float64, f"gradient dtype {g1.dtype}, expected float64", call)
        e1, e2 = getattr(reference, f"{KINDS[kind]}_loss_grad")(b1, b2, eps)
        bound1, bound2 = gradient_bound(kind, b1, b2, eps, _u(np.float64))
        assert_within(g1, e1, bound1, call, f"d {kind} loss / d boxes1 (float64)")
        assert_within(g2, e2, bound2, call, f"d {kind} loss / d boxes2 (float64)")


# --- bad input -------------------------------------------------------------------------------

_BOX = [[0, 0, 1, 1]]


@pytest.mark.parametrize(
    ("name", "b1", "b2", "reduction", "eps"),
    [
        ("boxes2", _BOX, [[0, 0, 1, 1], [0, 0, 1, 1]], "none", 1e-7),  # shapes differ
        ("boxes1", [[1, 0, 0, 1]], _BOX, "none", 1e-7),  # x2 < x1
        ("boxes2", _BOX, [[0, np.nan, 1, 1]], "none", 1e-7),
        ("boxes1", [[0, 0, 1]], [[0, 0, 1]], "none", 1e-7),
        ("reduction", _BOX, _BOX, "average", 1e-7),
        ("eps", _BOX, _BOX, "none", -1e-7),
        ("eps", _BOX, _BOX, "none", math.nan),
    ],
)
def test_losses_reject_bad_input(impl, name, b1, b2, reduction, eps):
    """``ValueError`` naming the argument: mismatched shapes, invalid boxes, an unknown
    ``reduction``, an ``eps`` that is not a finite number >= 0."""
    for kind in KINDS:
        call = loss_call(impl, kind, np.asarray(b1, F32), np.asarray(b2, F32), reduction, eps)
        with pytest.raises(ValueError, match=f"^{name}"):
            call()


def test_pairwise_rejects_bad_boxes(impl):
    """``ValueError`` naming the argument for invalid boxes."""
    for kind in KINDS:
        call = pairwise_call(impl, kind, np.asarray(_BOX, F32), np.asarray([[0, 1, 1, 0]], F32))
        with pytest.raises(ValueError, match="^boxes2"):
            call()
