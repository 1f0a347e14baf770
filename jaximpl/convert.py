"""``box_convert`` between ``xyxy``, ``xywh``, ``cxcywh`` and ``yxyx`` (CONTRACT.md §3.1).

Every conversion goes through corners (``in_fmt -> xyxy -> out_fmt``), with the
contract's formulas, as one fused jitted expression per pair of formats.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v

FORMATS = ("xyxy", "xywh", "cxcywh", "yxyx")


def to_xyxy(b: jax.Array, fmt: str) -> jax.Array:
    """``(..., 4)`` boxes in ``fmt`` -> corners (no checks)."""
    p, q, r, s = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    corners = {
        "xyxy": lambda: (p, q, r, s),
        "xywh": lambda: (p, q, p + r, q + s),
        "cxcywh": lambda: (p - r / 2, q - s / 2, p + r / 2, q + s / 2),
        "yxyx": lambda: (q, p, s, r),
    }[fmt]()
    return jnp.stack(corners, axis=-1)


def from_xyxy(b: jax.Array, fmt: str) -> jax.Array:
    """Corners ``(..., 4)`` -> boxes in ``fmt`` (no checks)."""
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = {
        "xyxy": lambda: (x1, y1, x2, y2),
        "xywh": lambda: (x1, y1, x2 - x1, y2 - y1),
        "cxcywh": lambda: ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1),
        "yxyx": lambda: (y1, x1, y2, x2),
    }[fmt]()
    return jnp.stack(out, axis=-1)


@partial(jax.jit, static_argnums=(1, 2))
def _convert(b: jax.Array, in_fmt: str, out_fmt: str) -> jax.Array:
    if in_fmt == out_fmt:
        return b
    return from_xyxy(to_xyxy(b, in_fmt), out_fmt)


def _check_format(fmt: Any, name: str) -> str:
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValueError(f"{name}: must be one of {', '.join(map(repr, FORMATS))}, got {fmt!r}")
    return fmt


def _check_values(b: jax.Array, fmt: str) -> None:
    """Finite, and valid in ``fmt`` (concrete input only)."""
    if not v.is_concrete(b) or b.size == 0:
        return
    rows = jnp.atleast_2d(b)
    if fmt in ("xyxy", "yxyx"):
        v.check_corner_boxes(rows if fmt == "xyxy" else rows[..., jnp.array([1, 0, 3, 2])], "boxes")
        return
    v.check_finite(rows, "boxes", "coordinates")
    negative = np.asarray(rows[..., 2:] < 0)  # (..., 2): width, height
    if negative.any():
        *row, col = (int(i) for i in np.argwhere(negative)[0])
        value = np.asarray(rows)[(*row, col + 2)]
        where = tuple(row) if len(row) > 1 else row[0]
        raise ValueError(f"boxes: negative {('width', 'height')[col]} in row {where} ({value})")


def box_convert(boxes: Any, in_fmt: str, out_fmt: str) -> jax.Array:
    """Boxes from ``in_fmt`` to ``out_fmt``: ``(..., 4) -> (..., 4)``.

    Formats ``"xyxy"`` ``(x1, y1, x2, y2)``, ``"xywh"`` ``(x1, y1, w, h)``, ``"cxcywh"``
    ``(cx, cy, w, h)``, ``"yxyx"`` ``(y1, x1, y2, x2)``; float32 unless float64 is given
    (with x64 enabled). The formats are static (one compile per pair of formats and
    shape). Time and memory O(boxes).

    Raises ``ValueError`` for an unknown format or a last dimension other than 4, and
    (concrete input only) for non-finite values and boxes invalid in ``in_fmt``. Jitted,
    invalid boxes go through the same formulas (NaN propagates, a negative width gives
    ``x2 < x1``).
    """
    in_fmt = _check_format(in_fmt, "in_fmt")
    out_fmt = _check_format(out_fmt, "out_fmt")
    b = v.as_array(boxes, "boxes", last=4)
    _check_values(b, in_fmt)
    return _convert(b, in_fmt, out_fmt)
