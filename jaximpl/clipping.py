"""``clip_boxes_to_image`` and ``remove_small_boxes`` (CONTRACT.md §3.6).

``remove_small_boxes`` returns a variable number of indices, so it is eager only; its
static-shape twin :func:`remove_small_boxes_keep_mask` (a boolean mask, CONTRACT.md §4's
pattern) jits and vmaps, as does :func:`clip_boxes_to_image`. Time and memory O(N).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v


@jax.jit
def _clip(b: jax.Array, height: jax.Array, width: jax.Array) -> jax.Array:
    x = jnp.clip(b[..., 0::2], 0, width)
    y = jnp.clip(b[..., 1::2], 0, height)
    return jnp.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], axis=-1)


@jax.jit
def _keep_mask(b: jax.Array, min_size: jax.Array) -> jax.Array:
    return (b[..., 2] - b[..., 0] >= min_size) & (b[..., 3] - b[..., 1] >= min_size)


def _boxes(boxes: Any) -> jax.Array:
    b = v.as_array(boxes, "boxes", last=4)
    v.check_corner_boxes(jnp.atleast_2d(b), "boxes")
    return b


def _non_negative(x: Any, name: str, what: str, shape: tuple[int, ...], dtype) -> jax.Array:
    """A finite array ``>= 0`` of ``shape`` (values checked when concrete)."""
    if v.is_concrete(x):
        if isinstance(x, bool):
            raise ValueError(f"{name}: must be {what}, got {x!r}")
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: must be {what}, got {x!r}") from None
        if arr.shape != shape or not (np.isfinite(arr).all() and (arr >= 0).all()):
            raise ValueError(f"{name}: must be {what}, got {x!r}")
    elif jnp.shape(x) != shape:
        raise ValueError(f"{name}: must be {what}, got shape {jnp.shape(x)}")
    return jnp.asarray(x, dtype)


def clip_boxes_to_image(boxes: Any, size: Any) -> jax.Array:
    """Boxes clipped to an image: ``(..., 4), (height, width) -> (..., 4)``.

    ``x1, x2`` to ``[0, width]``, ``y1, y2`` to ``[0, height]`` (torchvision's
    ``(height, width)`` order). ``size`` may be traced (no retrace for new sizes). Raises
    ``ValueError`` for a last dimension other than 4, a ``size`` that is not two numbers,
    and (concrete input) invalid boxes or a negative or non-finite size. Jitted, invalid
    boxes are clipped as they are (NaN stays NaN).
    """
    b = _boxes(boxes)
    hw = _non_negative(size, "size", "(height, width), two finite numbers >= 0", (2,), b.dtype)
    return _clip(b, hw[0], hw[1])


def remove_small_boxes_keep_mask(boxes: Any, min_size: Any) -> jax.Array:
    """``(..., 4) -> (...)`` bool: True where width and height are both ``>= min_size``.

    The static-shape twin of :func:`remove_small_boxes`. Errors as there; jitted, a box
    with a NaN coordinate is not kept (a NaN width is not ``>= min_size``).
    """
    b = _boxes(boxes)
    m = _non_negative(min_size, "min_size", "a finite number >= 0", (), b.dtype)
    return _keep_mask(b, m)


def remove_small_boxes(boxes: Any, min_size: Any) -> jax.Array:
    """Indices of the boxes whose width and height are both ``>= min_size``: ``(N, 4) ->
    (K,)`` int32, ascending.

    Eager only (the length depends on the values; use :func:`remove_small_boxes_keep_mask`
    under ``jit``). Raises ``ValueError`` for invalid boxes and a ``min_size`` that is not
    a finite number ``>= 0``, and ``TypeError`` when traced.
    """
    b = v.as_array(boxes, "boxes", ndim=2, last=4)
    mask = remove_small_boxes_keep_mask(b, min_size)
    if not v.is_concrete(mask):
        raise TypeError(
            "remove_small_boxes returns a variable number of indices and cannot be traced; "
            "use remove_small_boxes_keep_mask inside jit/vmap"
        )
    # The length depends on the values: found on the host (jnp.flatnonzero would compile
    # once per length).
    return jnp.asarray(np.flatnonzero(np.asarray(mask)), dtype=jnp.int32)
