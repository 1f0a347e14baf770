"""``BoxCoder``: torchvision's box coding with weights and a clamp (CONTRACT.md §3.3).

``encode`` and ``decode`` validate concrete arguments and call jitted cores that take the
weights, clamp and ``eps`` as array arguments: a new coder with the same shapes does not
compile again. Both jit and vmap (their arguments are ``(N, 4)`` arrays).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v

DEFAULT_CLIP = math.log(1000.0 / 16)  # torchvision's bbox_xform_clip


def _center(b: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


@jax.jit
def _encode(g: jax.Array, p: jax.Array, weights: jax.Array, eps: jax.Array) -> jax.Array:
    px, py, pw, ph = _center(p)
    gx, gy, gw, gh = _center(g)
    codes = (
        weights[0] * (gx - px) / pw,
        weights[1] * (gy - py) / ph,
        weights[2] * jnp.log(eps + gw / pw),
        weights[3] * jnp.log(eps + gh / ph),
    )
    return jnp.stack(codes, axis=-1)


@jax.jit
def _decode(o: jax.Array, p: jax.Array, weights: jax.Array, clip: jax.Array) -> jax.Array:
    px, py, pw, ph = _center(p)
    d = o / weights
    dw = jnp.minimum(d[..., 2], clip)  # from above only, after the weights
    dh = jnp.minimum(d[..., 3], clip)
    cx, cy = d[..., 0] * pw + px, d[..., 1] * ph + py
    w, h = jnp.exp(dw) * pw, jnp.exp(dh) * ph
    return jnp.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def _zero_extent(b: jax.Array, name: str, why: str) -> None:
    if not v.is_concrete(b) or b.size == 0:
        return
    arr = np.asarray(b)
    for lo, hi, what in ((0, 2, "width"), (1, 3, "height")):
        zero = arr[:, hi] - arr[:, lo] <= 0
        if zero.any():
            i = int(np.argmax(zero))
            raise ValueError(f"{name}: zero {what} in row {i} ({why})")


def _encode_args(reference_boxes: Any, proposals: Any, zero_size_ok: bool):
    """``encode``'s checks: valid boxes of one length, proposals of positive size (the code
    divides by them), boxes to code of positive size unless ``eps > 0`` (``log(0)``)."""
    p = v.boxes(proposals, "proposals")
    g = v.boxes(reference_boxes, "reference_boxes")
    v.same_length(p, "proposals", g, "reference_boxes")
    _zero_extent(p, "proposals", "the code divides by it")
    if not zero_size_ok:
        _zero_extent(g, "reference_boxes", "log(0) = -inf; give the coder an eps > 0")
    return g, p


def _host_number(x: Any, name: str, what: str) -> float:
    if isinstance(x, bool) or not v.is_concrete(x):
        raise ValueError(f"{name}: must be {what}, got {x!r}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be {what}, got {x!r}") from None
    if arr.ndim != 0:
        raise ValueError(f"{name}: must be {what}, got shape {arr.shape}")
    return float(arr)


@dataclasses.dataclass(frozen=True)
class BoxCoder:
    """Codes boxes relative to proposals: ``BoxCoder(weights, bbox_xform_clip, eps)``.

    ``weights = (wx, wy, ww, wh)``, four finite numbers ``> 0``; ``bbox_xform_clip`` the
    largest log size ratio ``decode`` lets through (``log(1000 / 16)``; ``inf`` for none);
    ``eps >= 0`` added to the size ratio before the log in ``encode`` (0: torchvision's
    coder; the chapter's ``offset_boxes`` is ``BoxCoder((10, 10, 5, 5), eps=1e-6)``). The
    parameters are Python numbers, checked here; frozen and hashable (a static argument of
    ``jax.jit`` if you like), but the cores take them as arrays: a new coder does not
    compile again.
    """

    weights: tuple[float, float, float, float]
    bbox_xform_clip: float = DEFAULT_CLIP
    eps: float = 0.0

    def __post_init__(self) -> None:
        try:
            w = np.asarray(self.weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"weights: must be 4 positive numbers, got {self.weights!r}") from None
        if w.shape != (4,) or not (np.isfinite(w).all() and (w > 0).all()):
            raise ValueError(f"weights: must be 4 finite positive numbers, got {self.weights!r}")
        clip = _host_number(self.bbox_xform_clip, "bbox_xform_clip", "a number (inf for none)")
        if math.isnan(clip):
            raise ValueError(f"bbox_xform_clip: must be a number (inf for none), got {clip}")
        e = _host_number(self.eps, "eps", "a finite number >= 0")
        if not (math.isfinite(e) and e >= 0):
            raise ValueError(f"eps: must be a finite number >= 0, got {self.eps!r}")
        object.__setattr__(self, "weights", tuple(float(x) for x in w))
        object.__setattr__(self, "bbox_xform_clip", clip)
        object.__setattr__(self, "eps", e)

    def encode(self, reference_boxes: Any, proposals: Any) -> jax.Array:
        """Codes of ``reference_boxes`` (the boxes to code) relative to ``proposals`` (the
        anchors): ``(N, 4), (N, 4) -> (N, 4)``, ``(wx (g_x - p_x) / p_w, wy (g_y - p_y) / p_h,
        ww log(eps + g_w / p_w), wh log(eps + g_h / p_h))``. Time and memory O(N).

        Raises ``ValueError`` (concrete input) for invalid boxes, mismatched lengths,
        proposals of zero width or height, and boxes of zero width or height when
        ``eps = 0``. Jitted, the formula is applied as is: a zero-size box with ``eps = 0``
        codes as ``-inf`` (torchvision's value), a zero-size proposal gives inf/NaN.
        """
        g, p = _encode_args(reference_boxes, proposals, zero_size_ok=self.eps > 0)
        dtype = jnp.promote_types(g.dtype, p.dtype)
        weights = jnp.asarray(self.weights, dtype)
        return _encode(g.astype(dtype), p.astype(dtype), weights, jnp.asarray(self.eps, dtype))

    def decode(self, rel_codes: Any, boxes: Any) -> jax.Array:
        """Boxes decoded from codes relative to ``boxes``: ``(N, 4), (N, 4) -> (N, 4)``.

        ``(dx, dy, dw, dh) = rel_codes / weights``, ``dw`` and ``dh`` clamped from above at
        ``bbox_xform_clip``; centre ``(dx p_w + p_x, dy p_h + p_y)``, size
        ``(exp(dw) p_w, exp(dh) p_h)``, corners ``centre -/+ size / 2``. Time and memory
        O(N). Raises ``ValueError`` (concrete input) for invalid boxes, non-finite codes,
        mismatched lengths and decoded boxes that overflow. Jitted: NaN propagates, an
        overflow gives inf (NaN corners), as in ``offset_inverse``.
        """
        o = v.as_array(rel_codes, "rel_codes", ndim=2, last=4)
        v.check_finite(o, "rel_codes")
        p = v.boxes(boxes, "boxes")
        v.same_length(p, "boxes", o, "rel_codes")
        dtype = jnp.promote_types(o.dtype, p.dtype)
        weights = jnp.asarray(self.weights, dtype)
        clip = jnp.asarray(self.bbox_xform_clip, dtype)
        out = _decode(o.astype(dtype), p.astype(dtype), weights, clip)
        if v.is_concrete(out) and out.size and not v.finite(out):
            raise ValueError("rel_codes: too large, the decoded boxes overflow")
        return out
