"""``box_convert`` between ``xyxy``, ``xywh``, ``cxcywh`` and ``yxyx`` (CONTRACT.md §3.1).

Every conversion goes through corners (``in_fmt -> xyxy -> out_fmt``), with the
contract's formulas, in one jitted function of the shape (the formats are switch indices).
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


@jax.jit
def _convert(b: jax.Array, in_index: jax.Array, out_index: jax.Array) -> jax.Array:
    """``in_fmt -> xyxy -> out_fmt``, the formats by their index in :data:`FORMATS`: one
    compile per shape for all sixteen pairs (``lax.switch`` runs one branch of each)."""
    corners = jax.lax.switch(in_index, [partial(to_xyxy, fmt=f) for f in FORMATS], b)
    return jax.lax.switch(out_index, [partial(from_xyxy, fmt=f) for f in FORMATS], corners)


def _check_format(fmt: Any, name: str) -> str:
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValueError(f"{name}: must be one of {', '.join(map(repr, FORMATS))}, got {fmt!r}")
    return fmt


def _valid_in(xp, b, index):
    """One boolean: every value finite, and corners ordered (``xyxy``, ``yxyx``) or sizes
    ``>= 0`` (``xywh``, ``cxcywh``) in the format ``FORMATS[index]`` (``xp``: NumPy or
    ``jax.numpy``)."""
    lo = xp.where(index == 3, b[..., [1, 0]], b[..., :2])
    hi = xp.where(index == 3, b[..., [3, 2]], b[..., 2:])
    ordered = xp.where((index == 0) | (index == 3), hi >= lo, hi >= 0)
    return xp.all(xp.isfinite(b)) & xp.all(ordered)


_valid_jit = jax.jit(partial(_valid_in, jnp))


def _valid(b: jax.Array, index: int) -> bool:
    """:func:`_valid_in` of the concrete ``b``: on the host when small (no compile per shape,
    as :mod:`jaximpl._validate` does), else one jitted reduction."""
    if b.size <= v.HOST_CHECK_MAX:
        return bool(_valid_in(np, np.asarray(b), index))
    return bool(_valid_jit(b, jnp.int32(index)))


def _check_values(b: jax.Array, fmt: str) -> None:
    """Finite, and valid in ``fmt`` (concrete input only): one jitted reduction, and the
    host builds the message only when it fails."""
    if not v.is_concrete(b) or b.size == 0 or _valid(b, FORMATS.index(fmt)):
        return
    rows = np.atleast_2d(np.asarray(b))
    if fmt in ("xyxy", "yxyx"):
        v.check_corner_boxes(
            jnp.asarray(rows if fmt == "xyxy" else rows[..., [1, 0, 3, 2]]), "boxes"
        )
    v.check_finite(jnp.asarray(rows), "boxes", "coordinates")
    *row, col = (int(i) for i in np.argwhere(rows[..., 2:] < 0)[0])
    where = tuple(row) if len(row) > 1 else row[0]
    value = rows[(*row, col + 2)]
    raise ValueError(f"boxes: negative {('width', 'height')[col]} in row {where} ({value})")


def box_convert(boxes: Any, in_fmt: str, out_fmt: str) -> jax.Array:
    """Boxes from ``in_fmt`` to ``out_fmt``: ``(..., 4) -> (..., 4)``.

    Formats ``"xyxy"`` ``(x1, y1, x2, y2)``, ``"xywh"`` ``(x1, y1, w, h)``, ``"cxcywh"``
    ``(cx, cy, w, h)``, ``"yxyx"`` ``(y1, x1, y2, x2)``; float32 unless float64 is given
    (with x64 enabled). One compile per shape serves every pair of formats. Time and
    memory O(boxes).

    Raises ``ValueError`` for an unknown format or a last dimension other than 4, and
    (concrete input only) for non-finite values and boxes invalid in ``in_fmt``. Jitted,
    invalid boxes go through the same formulas (NaN propagates, a negative width gives
    ``x2 < x1``).
    """
    in_fmt = _check_format(in_fmt, "in_fmt")
    out_fmt = _check_format(out_fmt, "out_fmt")
    b = v.as_array(boxes, "boxes", last=4)
    _check_values(b, in_fmt)
    if in_fmt == out_fmt:
        return b
    return _convert(b, FORMATS.index(in_fmt), FORMATS.index(out_fmt))
