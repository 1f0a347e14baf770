"""The GIoU family: pairwise GIoU, DIoU, CIoU and the matching losses (CONTRACT.md §3.5).

Every quantity is a function of a few *leaves* computed from the two boxes
``(x1, y1, x2, y2)`` and ``(X1, Y1, X2, Y2)`` (:func:`loss_parts`):

- ``inter`` = ``iw * ih`` where both overlaps ``iw = min(x2, X2) - max(x1, X1)`` and
  ``ih`` (the same in y) are positive, else 0; ``area1 = w1 h1``, ``area2 = w2 h2``;
  ``union = area1 + area2 - inter``;
- ``enclosing`` = ``cw * ch``, the area of the smallest box holding both
  (``cw = max(x2, X2) - min(x1, X1)``), and ``c2 = cw**2 + ch**2``, its squared diagonal;
- ``rho2 = dx**2 + dy**2``, the squared distance of the centres (``dx`` = centre x of box 1
  minus centre x of box 2);
- ``theta1 = atan2(w1, h1)``, ``theta2 = atan2(w2, h2)``: each box's aspect angle
  (``atan(w / h)`` for ``h > 0``, ``pi / 2`` for a zero height, 0 for a point), and
  ``v = 4 / pi**2 (theta2 - theta1)**2``.

A quotient whose denominator is 0 is 0 (its numerator is then 0 too). The losses' gradients
are the chain rule over the leaves: :func:`loss_adjoints` (the loss's derivative by each
leaf) times :func:`leaf_partials` (each leaf's derivative by the eight coordinates), with
the conventions of CONTRACT.md §3.5 where a leaf is not differentiable.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v

K_V = 4 / math.pi**2  # the factor of v
LEAVES = ("inter", "area1", "area2", "enclosing", "rho2", "c2", "theta1", "theta2")
REDUCTIONS = ("none", "mean", "sum")


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, and 0 where ``den`` is 0."""
    num, den = np.broadcast_arrays(np.asarray(num, np.float64), np.asarray(den, np.float64))
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def loss_parts(boxes1: np.ndarray, boxes2: np.ndarray) -> dict[str, np.ndarray]:
    """The leaves and the intermediate lengths of two broadcastable float64 ``(..., 4)`` sets.

    Keys: the :data:`LEAVES`, ``union``, ``overlap`` (bool), the lengths ``w1 h1 w2 h2 iw ih
    cw ch`` and the centre offsets ``dx dy``, each of the broadcast shape ``(...)``.
    """
    x1, y1, x2, y2 = (boxes1[..., k] for k in range(4))
    X1, Y1, X2, Y2 = (boxes2[..., k] for k in range(4))
    p = {"w1": x2 - x1, "h1": y2 - y1, "w2": X2 - X1, "h2": Y2 - Y1}
    p["iw"] = np.minimum(x2, X2) - np.maximum(x1, X1)
    p["ih"] = np.minimum(y2, Y2) - np.maximum(y1, Y1)
    p["overlap"] = (p["iw"] > 0) & (p["ih"] > 0)
    p["inter"] = np.where(p["overlap"], p["iw"] * p["ih"], 0.0)
    p["area1"] = p["w1"] * p["h1"]
    p["area2"] = p["w2"] * p["h2"]
    p["union"] = p["area1"] + p["area2"] - p["inter"]
    p["cw"] = np.maximum(x2, X2) - np.minimum(x1, X1)
    p["ch"] = np.maximum(y2, Y2) - np.minimum(y1, Y1)
    p["enclosing"] = p["cw"] * p["ch"]
    p["c2"] = p["cw"] ** 2 + p["ch"] ** 2
    p["dx"] = (x1 + x2) / 2 - (X1 + X2) / 2
    p["dy"] = (y1 + y2) / 2 - (Y1 + Y2) / 2
    p["rho2"] = p["dx"] ** 2 + p["dy"] ** 2
    p["theta1"] = np.arctan2(p["w1"], p["h1"])  # arctan2(0, 0) is 0
    p["theta2"] = np.arctan2(p["w2"], p["h2"])
    return p


def _aspect_term(p: dict[str, np.ndarray]) -> np.ndarray:
    return K_V * (p["theta2"] - p["theta1"]) ** 2


def _alpha(iou: np.ndarray, aspect: np.ndarray, eps: float) -> np.ndarray:
    """CIoU's trade-off ``v / (1 - IoU + v + eps)``: a constant for differentiation."""
    return _div(aspect, 1 - iou + aspect + eps)


# --------------------------------------------------------------------------- pairwise


def _pairwise(boxes1, boxes2) -> dict[str, np.ndarray]:
    b1 = v.boxes(boxes1, "boxes1")
    b2 = v.boxes(boxes2, "boxes2")
    return loss_parts(b1[:, None, :], b2[None, :, :])


def _eps(eps) -> float:
    e = np.asarray(eps, dtype=np.float64) if not isinstance(eps, bool) else np.asarray(np.nan)
    if e.ndim != 0 or not np.isfinite(e) or e < 0:
        raise ValueError(f"eps: must be a finite number >= 0, got {eps!r}")
    return float(e)


def generalized_box_iou(boxes1, boxes2) -> np.ndarray:
    """GIoU of every pair: ``(N, 4), (M, 4) -> (N, M)`` float64.

    ``IoU - (enclosing - union) / enclosing``, with the IoU of CONTRACT.md §2.3 (0 where the
    union is 0) and the penalty 0 where the enclosing box has zero area. In ``[-1, 1]``;
    1 for a box of positive area with itself. Raises ``ValueError`` for invalid boxes.
    """
    p = _pairwise(boxes1, boxes2)
    return _div(p["inter"], p["union"]) - _div(p["enclosing"] - p["union"], p["enclosing"])


def distance_box_iou(boxes1, boxes2, eps: float = 1e-7) -> np.ndarray:
    """DIoU of every pair: ``(N, 4), (M, 4) -> (N, M)`` float64.

    ``IoU - rho2 / (c2 + eps)`` (the IoU of §2.3; the term 0 where ``c2 + eps`` is 0).
    Raises ``ValueError`` for invalid boxes and an ``eps`` that is not a finite number >= 0.
    """
    e = _eps(eps)
    p = _pairwise(boxes1, boxes2)
    return _div(p["inter"], p["union"]) - _div(p["rho2"], p["c2"] + e)


def complete_box_iou(boxes1, boxes2, eps: float = 1e-7) -> np.ndarray:
    """CIoU of every pair: ``(N, 4), (M, 4) -> (N, M)`` float64.

    ``DIoU - alpha v`` with ``alpha = v / (1 - IoU + v + eps)`` (0 where that denominator is
    0). Raises ``ValueError`` as :func:`distance_box_iou`.
    """
    e = _eps(eps)
    p = _pairwise(boxes1, boxes2)
    iou = _div(p["inter"], p["union"])
    aspect = _aspect_term(p)
    return iou - _div(p["rho2"], p["c2"] + e) - _alpha(iou, aspect, e) * aspect


# --------------------------------------------------------------------------- losses


def _loss_inputs(boxes1, boxes2, reduction: str, eps) -> tuple[np.ndarray, np.ndarray, float]:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction: must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}"
        )
    e = _eps(eps)
    b1 = v.as_array(boxes1, "boxes1", last=4)
    b2 = v.as_array(boxes2, "boxes2", last=4)
    if b1.shape != b2.shape:
        raise ValueError(f"boxes2: shape {b2.shape} does not match boxes1 (shape {b1.shape})")
    v.check_corner_boxes(np.atleast_2d(b1), "boxes1")
    v.check_corner_boxes(np.atleast_2d(b2), "boxes2")
    return b1, b2, e


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    return np.asarray(loss.mean() if loss.size else 0.0)


def _loss_values(kind: str, p: dict[str, np.ndarray], eps: float) -> np.ndarray:
    iou = _div(p["inter"], p["union"] + eps)
    if kind == "giou":
        return 1 - iou + _div(p["enclosing"] - p["union"], p["enclosing"] + eps)
    loss = 1 - iou + _div(p["rho2"], p["c2"] + eps)
    if kind == "ciou":
        aspect = _aspect_term(p)
        loss = loss + _alpha(iou, aspect, eps) * aspect
    return loss


def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """GIoU loss of each pair: ``(..., 4), (..., 4) -> (...)`` (or a scalar when reduced).

    ``1 - inter / (union + eps) + (enclosing - union) / (enclosing + eps)``: torchvision's
    formula, ``eps`` where torchvision puts it. ``reduction``: ``"none"``, ``"mean"`` (0 for
    no boxes) or ``"sum"``. Raises ``ValueError`` for invalid or mismatched boxes, a bad
    ``reduction`` and an ``eps`` that is not a finite number >= 0.
    """
    b1, b2, e = _loss_inputs(boxes1, boxes2, reduction, eps)
    return _reduce(_loss_values("giou", loss_parts(b1, b2), e), reduction)


def distance_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """DIoU loss of each pair: ``1 - inter / (union + eps) + rho2 / (c2 + eps)``.

    Shapes, ``reduction`` and errors as :func:`generalized_box_iou_loss`.
    """
    b1, b2, e = _loss_inputs(boxes1, boxes2, reduction, eps)
    return _reduce(_loss_values("diou", loss_parts(b1, b2), e), reduction)


def complete_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """CIoU loss of each pair: the DIoU loss ``+ alpha v``, ``alpha = v / (1 - iou + v + eps)``
    with ``iou = inter / (union + eps)``; ``alpha`` is a constant for differentiation.

    ``eps`` is used everywhere (torchvision's DIoU part always uses 1e-7). Shapes,
    ``reduction`` and errors as :func:`generalized_box_iou_loss`.
    """
    b1, b2, e = _loss_inputs(boxes1, boxes2, reduction, eps)
    return _reduce(_loss_values("ciou", loss_parts(b1, b2), e), reduction)


# --------------------------------------------------------------------------- gradients


def _tie_share(a: np.ndarray, b: np.ndarray, sign: int) -> np.ndarray:
    """How much of ``max(a, b)`` (``sign = 1``) or ``min(a, b)`` (``sign = -1``) moves with
    ``a``: 1 if ``a`` is the one taken, 0 if ``b`` is, 1/2 on a tie."""
    return np.where(a == b, 0.5, np.where(sign * (a - b) > 0, 1.0, 0.0))


def loss_adjoints(kind: str, p: dict[str, np.ndarray], eps: float) -> dict[str, np.ndarray]:
    """``dL / d leaf`` for each of :data:`LEAVES` (``kind``: ``giou``, ``diou``, ``ciou``).

    With ``D = union + eps`` and ``union = area1 + area2 - inter``:
    ``d(inter / D) / d inter = 1 / D + inter / D**2`` and ``/ d area = -inter / D**2`` (0
    where ``D = 0``). GIoU's penalty ``(enclosing - union) / (enclosing + eps)`` adds
    ``1 / Ce`` to ``inter``, ``-1 / Ce`` to each area and ``(union + eps) / Ce**2`` to
    ``enclosing`` (``Ce = enclosing + eps``; 0 where ``Ce = 0``). DIoU's term
    ``rho2 / ce`` (``ce = c2 + eps``) gives ``1 / ce`` and ``-rho2 / ce**2``. CIoU's
    ``alpha v`` gives ``+- alpha 2 K_V (theta2 - theta1)`` (``alpha`` held constant).
    """
    zero = np.zeros_like(p["union"])
    d = p["union"] + eps
    d_iou_inter = _div(1.0, d) + _div(p["inter"], d**2)
    d_iou_area = -_div(p["inter"], d**2)
    adj = dict.fromkeys(LEAVES, zero)
    adj["inter"] = -d_iou_inter
    adj["area1"] = adj["area2"] = -d_iou_area
    if kind == "giou":
        ce = p["enclosing"] + eps
        adj["inter"] = adj["inter"] + _div(1.0, ce)
        adj["area1"] = adj["area2"] = adj["area1"] - _div(1.0, ce)
        adj["enclosing"] = _div(p["union"] + eps, ce**2)
        return adj
    ce = p["c2"] + eps
    adj["rho2"] = _div(1.0, ce)
    adj["c2"] = -_div(p["rho2"], ce**2)
    if kind == "ciou":
        aspect = _aspect_term(p)
        alpha = _alpha(_div(p["inter"], d), aspect, eps)
        adj["theta2"] = alpha * 2 * K_V * (p["theta2"] - p["theta1"])
        adj["theta1"] = -adj["theta2"]
    return adj


def leaf_partials(
    boxes1: np.ndarray, boxes2: np.ndarray, p: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``d leaf / d (x1, y1, x2, y2, X1, Y1, X2, Y2)``: a ``(..., 8)`` array per leaf.

    Conventions where a leaf is not differentiable (CONTRACT.md §3.5): a ``min`` or ``max``
    of two equal coordinates moves with each by half; ``inter`` does not move where the
    boxes do not overlap (``iw <= 0`` or ``ih <= 0``, touching boxes included); an aspect
    angle does not move at a point (``w = h = 0``).
    """
    x1, y1, x2, y2 = (boxes1[..., k] for k in range(4))
    X1, Y1, X2, Y2 = (boxes2[..., k] for k in range(4))
    zero = np.zeros(p["union"].shape)
    # Derivatives of the overlap and enclosing extents by each coordinate.
    d_iw = [-_tie_share(x1, X1, 1), _tie_share(x2, X2, -1), -_tie_share(X1, x1, 1)]
    d_iw.append(_tie_share(X2, x2, -1))
    d_ih = [-_tie_share(y1, Y1, 1), _tie_share(y2, Y2, -1), -_tie_share(Y1, y1, 1)]
    d_ih.append(_tie_share(Y2, y2, -1))
    d_cw = [-_tie_share(x1, X1, -1), _tie_share(x2, X2, 1), -_tie_share(X1, x1, -1)]
    d_cw.append(_tie_share(X2, x2, 1))
    d_ch = [-_tie_share(y1, Y1, -1), _tie_share(y2, Y2, 1), -_tie_share(Y1, y1, -1)]
    d_ch.append(_tie_share(Y2, y2, 1))

    def by_axis(x_terms, y_terms):
        # Coordinates in the order x1, y1, x2, y2, X1, Y1, X2, Y2.
        return np.stack([x_terms[0], y_terms[0], x_terms[1], y_terms[1],
                         x_terms[2], y_terms[2], x_terms[3], y_terms[3]], axis=-1)  # fmt: skip

    ov = p["overlap"]
    inter_x = [np.where(ov, p["ih"] * t, 0.0) for t in d_iw]
    inter_y = [np.where(ov, p["iw"] * t, 0.0) for t in d_ih]
    r1 = p["w1"] ** 2 + p["h1"] ** 2
    r2 = p["w2"] ** 2 + p["h2"] ** 2
    dt1_dw, dt1_dh = _div(p["h1"], r1), -_div(p["w1"], r1)  # d atan2(w, h) by w and by h
    dt2_dw, dt2_dh = _div(p["h2"], r2), -_div(p["w2"], r2)
    dx, dy = p["dx"], p["dy"]
    return {
        "inter": by_axis(inter_x, inter_y),
        "area1": by_axis([-p["h1"], p["h1"], zero, zero], [-p["w1"], p["w1"], zero, zero]),
        "area2": by_axis([zero, zero, -p["h2"], p["h2"]], [zero, zero, -p["w2"], p["w2"]]),
        "enclosing": by_axis([p["ch"] * t for t in d_cw], [p["cw"] * t for t in d_ch]),
        "rho2": by_axis([dx, dx, -dx, -dx], [dy, dy, -dy, -dy]),
        "c2": by_axis([2 * p["cw"] * t for t in d_cw], [2 * p["ch"] * t for t in d_ch]),
        "theta1": by_axis([-dt1_dw, dt1_dw, zero, zero], [-dt1_dh, dt1_dh, zero, zero]),
        "theta2": by_axis([zero, zero, -dt2_dw, dt2_dw], [zero, zero, -dt2_dh, dt2_dh]),
    }


def _loss_grad(kind: str, boxes1, boxes2, eps) -> tuple[np.ndarray, np.ndarray]:
    b1, b2, e = _loss_inputs(boxes1, boxes2, "sum", eps)
    p = loss_parts(b1, b2)
    adj = loss_adjoints(kind, p, e)
    partials = leaf_partials(b1, b2, p)
    grad = sum(adj[leaf][..., None] * partials[leaf] for leaf in LEAVES)
    return grad[..., :4], grad[..., 4:]


def generalized_box_iou_loss_grad(boxes1, boxes2, eps: float = 1e-7):
    """Gradient of ``generalized_box_iou_loss(boxes1, boxes2, "sum", eps)`` by ``boxes1``
    and by ``boxes2``: two ``(..., 4)`` float64 arrays (each pair's own derivatives)."""
    return _loss_grad("giou", boxes1, boxes2, eps)


def distance_box_iou_loss_grad(boxes1, boxes2, eps: float = 1e-7):
    """Gradient of ``distance_box_iou_loss(boxes1, boxes2, "sum", eps)``: see
    :func:`generalized_box_iou_loss_grad`."""
    return _loss_grad("diou", boxes1, boxes2, eps)


def complete_box_iou_loss_grad(boxes1, boxes2, eps: float = 1e-7):
    """Gradient of ``complete_box_iou_loss(boxes1, boxes2, "sum", eps)`` (``alpha`` held
    constant): see :func:`generalized_box_iou_loss_grad`."""
    return _loss_grad("ciou", boxes1, boxes2, eps)
