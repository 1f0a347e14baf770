"""The GIoU family: pairwise GIoU, DIoU, CIoU and the matching losses (CONTRACT.md §3.5).

The losses are written to be differentiated: ``jax.grad`` of each is finite for every valid
input (identical, nested, touching and degenerate boxes, ``eps = 0`` included) and follows
the contract's conventions where the loss is not differentiable:

- every quotient is ``where(d != 0, n / where(d != 0, d, 1), 0)`` (the "double where": the
  untaken branch never divides by 0, so its gradient is 0, not NaN);
- the intersection is ``where(iw > 0 & ih > 0, iw * ih, 0)``: no gradient where the boxes
  do not overlap, touching boxes included (torchvision's mask);
- the aspect angle is ``atan2(w, h)``, 0 with no gradient for a point box (``atan2`` has
  a 0/0 derivative there), finite for a zero height where ``atan(w / h)`` is not; the
  difference of the two angles is computed as one ``atan2`` (:func:`_angle_difference`);
- ``min``/``max`` of equal coordinates pass half the gradient to each (JAX's rule);
- CIoU's ``alpha`` is under ``stop_gradient`` (torchvision's ``no_grad``).

All functions jit and vmap; ``reduction`` is static, ``eps`` an argument. One fused XLA
loop per call: time and memory O(pairs).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v

K_V = 4 / math.pi**2
REDUCTIONS = ("none", "mean", "sum")


def _div(n: jax.Array, d: jax.Array) -> jax.Array:
    """``n / d``, and 0 (with a zero gradient) where ``d`` is 0."""
    nonzero = d != 0
    return jnp.where(nonzero, n / jnp.where(nonzero, d, 1), 0)


def _angle_difference(w1: jax.Array, h1: jax.Array, w2: jax.Array, h2: jax.Array) -> jax.Array:
    """``theta2 - theta1`` with ``theta = atan2(w, h)`` (0 for a point), as one ``atan2``.

    Both angles lie in ``[0, pi / 2]``, so their difference is the angle between the
    vectors ``(h1, w1)`` and ``(h2, w2)``: ``atan2(h1 w2 - w1 h2, h1 h2 + w1 w2)``, exact in
    real arithmetic, with the same derivatives (``d / dw1 = -h1 / (w1**2 + h1**2)``...). A
    point is given the vector ``(1, 0)`` (angle 0) by a ``where``, so it has no gradient
    (and ``atan2`` never sees ``(0, 0)``, whose derivative is 0/0). One ``atan2`` instead of
    two: XLA:CPU's ``atan2`` is scalar code, about 30 ns an element here, most of CIoU's time.
    """
    p1 = (w1 == 0) & (h1 == 0)
    p2 = (w2 == 0) & (h2 == 0)
    w1, h1 = jnp.where(p1, 0, w1), jnp.where(p1, 1, h1)
    w2, h2 = jnp.where(p2, 0, w2), jnp.where(p2, 1, h2)
    return jnp.arctan2(h1 * w2 - w1 * h2, h1 * h2 + w1 * w2)


def _parts(b1: jax.Array, b2: jax.Array) -> dict[str, jax.Array]:
    """The leaves of two broadcastable ``(..., 4)`` sets (no checks)."""
    # One unstack per set (its gradient is one stack): four column slices would each
    # scatter their gradient into a zero (N, 4) array, and the backward pass took 4x longer.
    x1, y1, x2, y2 = jnp.unstack(b1, axis=-1)
    X1, Y1, X2, Y2 = jnp.unstack(b2, axis=-1)
    w1, h1, w2, h2 = x2 - x1, y2 - y1, X2 - X1, Y2 - Y1
    iw = jnp.minimum(x2, X2) - jnp.maximum(x1, X1)
    ih = jnp.minimum(y2, Y2) - jnp.maximum(y1, Y1)
    inter = jnp.where((iw > 0) & (ih > 0), iw * ih, 0)
    cw = jnp.maximum(x2, X2) - jnp.minimum(x1, X1)
    ch = jnp.maximum(y2, Y2) - jnp.minimum(y1, Y1)
    dx = (x1 + x2) / 2 - (X1 + X2) / 2
    dy = (y1 + y2) / 2 - (Y1 + Y2) / 2
    return {
        "inter": inter,
        "union": w1 * h1 + w2 * h2 - inter,
        "enclosing": cw * ch,
        "c2": cw * cw + ch * ch,
        "rho2": dx * dx + dy * dy,
        "aspect": K_V * _angle_difference(w1, h1, w2, h2) ** 2,
    }


def _alpha(iou: jax.Array, aspect: jax.Array, eps: jax.Array) -> jax.Array:
    return jax.lax.stop_gradient(_div(aspect, 1 - iou + aspect + eps))


def _loss(kind: str, b1: jax.Array, b2: jax.Array, eps: jax.Array) -> jax.Array:
    p = _parts(b1, b2)
    iou = _div(p["inter"], p["union"] + eps)
    if kind == "giou":
        return 1 - iou + _div(p["enclosing"] - p["union"], p["enclosing"] + eps)
    loss = 1 - iou + _div(p["rho2"], p["c2"] + eps)
    if kind == "ciou":
        loss = loss + _alpha(iou, p["aspect"], eps) * p["aspect"]
    return loss


@partial(jax.jit, static_argnums=(0, 4))
def _reduced_loss(kind: str, b1: jax.Array, b2: jax.Array, eps: jax.Array, reduction: str):
    loss = _loss(kind, b1, b2, eps)
    if reduction == "sum":
        return jnp.sum(loss)
    if reduction == "mean":
        return jnp.mean(loss) if loss.size else jnp.zeros((), loss.dtype)
    return loss


@partial(jax.jit, static_argnums=(0,))
def _pairwise(kind: str, b1: jax.Array, b2: jax.Array, eps: jax.Array) -> jax.Array:
    p = _parts(b1[:, None, :], b2[None, :, :])
    iou = _div(p["inter"], p["union"])
    if kind == "giou":
        return iou - _div(p["enclosing"] - p["union"], p["enclosing"])
    diou = iou - _div(p["rho2"], p["c2"] + eps)
    if kind == "ciou":
        diou = diou - _div(p["aspect"], 1 - iou + p["aspect"] + eps) * p["aspect"]
    return diou


def _eps(eps: Any, dtype) -> jax.Array:
    if v.is_concrete(eps):
        ok = not isinstance(eps, bool)
        try:
            e = np.asarray(eps, dtype=np.float64)
            ok = ok and e.ndim == 0 and bool(np.isfinite(e)) and float(e) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"eps: must be a finite number >= 0, got {eps!r}")
    elif jnp.ndim(eps) != 0:
        raise ValueError(f"eps: must be a scalar, got shape {jnp.shape(eps)}")
    return jnp.asarray(eps, dtype)


def _check_pair_boxes(boxes1: Any, boxes2: Any) -> tuple[jax.Array, jax.Array]:
    """Two ``(..., 4)`` sets of the same shape, valid when concrete, in their common dtype."""
    b1 = v.as_array(boxes1, "boxes1", last=4)
    b2 = v.as_array(boxes2, "boxes2", last=4)
    if b1.shape != b2.shape:
        raise ValueError(
            f"boxes2: shape {tuple(b2.shape)} does not match boxes1 (shape {tuple(b1.shape)})"
        )
    v.check_corner_boxes(jnp.atleast_2d(b1), "boxes1")
    v.check_corner_boxes(jnp.atleast_2d(b2), "boxes2")
    dtype = jnp.promote_types(b1.dtype, b2.dtype)
    return b1.astype(dtype), b2.astype(dtype)


def _public_loss(kind: str, boxes1: Any, boxes2: Any, reduction: Any, eps: Any) -> jax.Array:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction: must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}"
        )
    b1, b2 = _check_pair_boxes(boxes1, boxes2)
    return _reduced_loss(kind, b1, b2, _eps(eps, b1.dtype), reduction)


def generalized_box_iou_loss(
    boxes1: Any, boxes2: Any, reduction: str = "none", eps: float = 1e-7
) -> jax.Array:
    """GIoU loss of each pair: ``(..., 4), (..., 4) -> (...)``, or a scalar when reduced.

    ``1 - inter / (union + eps) + (enclosing - union) / (enclosing + eps)`` (torchvision's
    formula and ``eps``). ``reduction`` ``"none"``, ``"mean"`` (0 for no boxes) or
    ``"sum"``. Differentiable everywhere as the module docstring says. Raises
    ``ValueError`` for mismatched shapes, a bad ``reduction`` or ``eps`` and (concrete
    input) invalid boxes; jitted, invalid boxes go through the formula (NaN propagates).
    """
    return _public_loss("giou", boxes1, boxes2, reduction, eps)


def distance_box_iou_loss(
    boxes1: Any, boxes2: Any, reduction: str = "none", eps: float = 1e-7
) -> jax.Array:
    """DIoU loss of each pair: ``1 - inter / (union + eps) + rho2 / (c2 + eps)``; otherwise
    as :func:`generalized_box_iou_loss`."""
    return _public_loss("diou", boxes1, boxes2, reduction, eps)


def complete_box_iou_loss(
    boxes1: Any, boxes2: Any, reduction: str = "none", eps: float = 1e-7
) -> jax.Array:
    """CIoU loss of each pair: the DIoU loss ``+ alpha v`` with
    ``alpha = stop_gradient(v / (1 - iou + v + eps))``; otherwise as
    :func:`generalized_box_iou_loss`."""
    return _public_loss("ciou", boxes1, boxes2, reduction, eps)


def _public_pairwise(kind: str, boxes1: Any, boxes2: Any, eps: Any) -> jax.Array:
    b1 = v.boxes(boxes1, "boxes1")
    b2 = v.boxes(boxes2, "boxes2")
    dtype = jnp.promote_types(b1.dtype, b2.dtype)
    return _pairwise(kind, b1.astype(dtype), b2.astype(dtype), _eps(eps, dtype))


def generalized_box_iou(boxes1: Any, boxes2: Any) -> jax.Array:
    """GIoU of every pair: ``(N, 4), (M, 4) -> (N, M)``: ``IoU - (enclosing - union) /
    enclosing``, the IoU of CONTRACT.md §2.3 (0 for an empty union), the penalty 0 for an
    empty enclosing box. Time and memory O(N M). Raises ``ValueError`` for invalid boxes
    (values checked when concrete)."""
    return _public_pairwise("giou", boxes1, boxes2, 0.0)


def distance_box_iou(boxes1: Any, boxes2: Any, eps: float = 1e-7) -> jax.Array:
    """DIoU of every pair: ``IoU - rho2 / (c2 + eps)``; otherwise as
    :func:`generalized_box_iou`."""
    return _public_pairwise("diou", boxes1, boxes2, eps)


def complete_box_iou(boxes1: Any, boxes2: Any, eps: float = 1e-7) -> jax.Array:
    """CIoU of every pair: the DIoU ``- alpha v``, ``alpha = v / (1 - IoU + v + eps)``;
    otherwise as :func:`generalized_box_iou`."""
    return _public_pairwise("ciou", boxes1, boxes2, eps)
