"""``BoxCoder``: torchvision's box coding with weights and a clamp (CONTRACT.md §3.3).

The detection models' coder (``torchvision/models/detection/_utils.py``): a box is coded
relative to a *proposal* (an anchor) as weighted centre offsets and log size ratios, and
decoding clamps the log size ratios from above before ``exp``. The chapter's
``offset_boxes``/``offset_inverse`` (§2.5, §2.6) are the coder with weights
``(10, 10, 5, 5)``, the chapter's ``eps`` and no clamp.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v

DEFAULT_CLIP = math.log(1000.0 / 16)  # torchvision's bbox_xform_clip


def _center(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    return (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, w, h


def _zero_extent(b: np.ndarray, name: str, why: str) -> None:
    for lo, hi, what in ((0, 2, "width"), (1, 3, "height")):
        zero = b[:, hi] - b[:, lo] <= 0
        if zero.any():
            i = int(np.argmax(zero))
            raise ValueError(f"{name}: zero {what} in row {i} ({why})")


class BoxCoder:
    """Codes boxes relative to proposals: ``BoxCoder(weights, bbox_xform_clip, eps)``.

    ``weights = (wx, wy, ww, wh)``: four finite numbers ``> 0``. ``bbox_xform_clip``: the
    largest log size ratio decoding lets through (torchvision's ``log(1000 / 16)`` by
    default; any number but NaN, ``inf`` for no clamp). ``eps``: a finite number ``>= 0``
    added to the size ratio before the log (0, torchvision's coder, by default; the
    chapter's ``offset_boxes`` uses ``1e-6``).
    """

    def __init__(
        self,
        weights: tuple[float, float, float, float],
        bbox_xform_clip: float = DEFAULT_CLIP,
        eps: float = 0.0,
    ) -> None:
        w = v.as_array(weights, "weights")
        if w.shape != (4,):
            raise ValueError(f"weights: expected 4 numbers (wx, wy, ww, wh), got shape {w.shape}")
        v.check_finite(w, "weights")
        if (w <= 0).any():
            i = int(np.argmax(w <= 0))
            raise ValueError(f"weights: must be positive, got {w[i]} at index {i}")
        clip = v.as_array(bbox_xform_clip, "bbox_xform_clip")
        if clip.ndim != 0 or np.isnan(clip):
            raise ValueError(f"bbox_xform_clip: must be a number (inf for none), got {clip}")
        e = v.as_array(eps, "eps")
        if e.ndim != 0 or not np.isfinite(e) or e < 0:
            raise ValueError(f"eps: must be a finite number >= 0, got {eps!r}")
        self.weights = tuple(float(x) for x in w)
        self.bbox_xform_clip = float(clip)
        self.eps = float(e)

    def __repr__(self) -> str:
        return f"BoxCoder({self.weights}, bbox_xform_clip={self.bbox_xform_clip}, eps={self.eps})"

    def encode(self, reference_boxes, proposals) -> np.ndarray:
        """Codes of ``reference_boxes`` relative to ``proposals``: ``(N, 4), (N, 4) -> (N, 4)``.

        torchvision's argument names and order: ``reference_boxes`` are the boxes to code
        (the matched ground truths), ``proposals`` the boxes they are coded against (the
        anchors). With both in centre form, ``(p_x, p_y, p_w, p_h)`` the proposal and
        ``(g_x, g_y, g_w, g_h)`` the box::

            (wx (g_x - p_x) / p_w, wy (g_y - p_y) / p_h,
             ww log(eps + g_w / p_w), wh log(eps + g_h / p_h))

        Proposals must have positive width and height (the code divides by them); a box of
        zero width or height needs ``eps > 0`` (``log(0)`` is ``-inf``). Raises
        ``ValueError`` otherwise, and for invalid boxes or mismatched lengths.
        """
        g = v.boxes(reference_boxes, "reference_boxes")
        p = v.boxes(proposals, "proposals")
        v.same_length(p, "proposals", g, "reference_boxes")
        _zero_extent(p, "proposals", "the code divides by it")
        if self.eps == 0:
            _zero_extent(g, "reference_boxes", "log(0) = -inf; give the coder an eps > 0")
        wx, wy, ww, wh = self.weights
        px, py, pw, ph = _center(p)
        gx, gy, gw, gh = _center(g)
        codes = (
            wx * (gx - px) / pw,
            wy * (gy - py) / ph,
            ww * np.log(self.eps + gw / pw),
            wh * np.log(self.eps + gh / ph),
        )
        return np.stack(codes, axis=-1).reshape(-1, 4)

    def decode(self, rel_codes, boxes) -> np.ndarray:
        """Boxes decoded from codes relative to ``boxes``: ``(N, 4), (N, 4) -> (N, 4)`` corners.

        With ``(p_x, p_y, p_w, p_h)`` the centre form of ``boxes`` (the proposals) and
        ``(dx, dy, dw, dh) = rel_codes / weights``::

            dw, dh = min(dw, bbox_xform_clip), min(dh, bbox_xform_clip)
            centre = (dx p_w + p_x, dy p_h + p_y), size = (exp(dw) p_w, exp(dh) p_h)

        and the corners ``centre -/+ size / 2``. The clamp acts on the size codes only, from
        above only, after dividing by the weights (where torchvision applies it). ``boxes``
        may be degenerate. Raises ``ValueError`` for invalid boxes, non-finite codes,
        mismatched lengths, and codes so large that a decoded box overflows.
        """
        o = v.as_array(rel_codes, "rel_codes", ndim=2, last=4)
        v.check_finite(o, "rel_codes")
        p = v.boxes(boxes, "boxes")
        v.same_length(p, "boxes", o, "rel_codes")
        wx, wy, ww, wh = self.weights
        px, py, pw, ph = _center(p)
        dx, dy = o[:, 0] / wx, o[:, 1] / wy
        dw = np.minimum(o[:, 2] / ww, self.bbox_xform_clip)
        dh = np.minimum(o[:, 3] / wh, self.bbox_xform_clip)
        cx, cy = dx * pw + px, dy * ph + py
        with np.errstate(over="ignore", invalid="ignore"):
            w, h = np.exp(dw) * pw, np.exp(dh) * ph
            out = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)
        if not np.isfinite(out).all():
            raise ValueError("rel_codes: too large, the decoded boxes overflow")
        return out.reshape(-1, 4)
