"""Anchor boxes of a feature map (CONTRACT.md §2.2)."""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v


@partial(jax.jit, static_argnums=(0, 1))
def _prior(height: int, width: int, sizes: jax.Array, ratios: jax.Array) -> jax.Array:
    """The anchors of an ``height x width`` map: ``(1, H * W * (n + m - 1), 4)``."""
    n, m = sizes.shape[0], ratios.shape[0]
    dtype = jnp.promote_types(sizes.dtype, ratios.dtype)
    s = jnp.concatenate([sizes, jnp.full((m - 1,), sizes[0], sizes.dtype)]).astype(dtype)
    r = jnp.concatenate([jnp.full((n,), ratios[0], ratios.dtype), ratios[1:]]).astype(dtype)
    sqrt_r = jnp.sqrt(r)
    half_w = s * sqrt_r * height / width / 2  # (K,)
    half_h = s / sqrt_r / 2
    cy = (jnp.arange(height, dtype=dtype) + 0.5) / height  # (H,)
    cx = (jnp.arange(width, dtype=dtype) + 0.5) / width  # (W,)
    # One broadcast add of (H, W, 1, 4) centres and (K, 4) offsets: XLA:CPU writes it in one
    # pass, twice as fast as stacking four (H, W, K) planes (measured: git log -S "one pass").
    centres = jnp.stack(
        jnp.broadcast_arrays(cx[None, :], cy[:, None], cx[None, :], cy[:, None]), -1
    )
    offsets = jnp.stack([-half_w, -half_h, half_w, half_h], axis=-1)  # (K, 4)
    anchors = centres[:, :, None, :] + offsets
    return anchors.reshape(1, -1, 4)


def multibox_prior(data: Any, sizes: Any, ratios: Any) -> jax.Array:
    """Anchor boxes centred on every pixel of a feature map: ``(1, H W (n + m - 1), 4)``.

    ``H, W = data.shape[-2:]`` (only the shape of ``data`` is used; it may be a
    tracer). Pixel ``(i, j)`` is centred at ``((j + 0.5) / W, (i + 0.5) / H)``
    and carries the shapes ``(sizes[k], ratios[0])`` for ``k < n``, then
    ``(sizes[0], ratios[r])`` for ``0 < r < m``; anchor index
    ``(i W + j)(n + m - 1) + k``. Shape ``(s, r)`` has normalised width
    ``s sqrt(r) H / W`` and height ``s / sqrt(r)``. Nothing is clipped.
    float32 unless ``sizes``/``ratios`` are float64 (with x64 enabled).

    Time and memory O(H W (n + m)). ``sizes`` and ``ratios`` may be arrays, so
    ``jax.jit(multibox_prior)(data, sizes, ratios)`` works; new values of the
    same lengths do not retrace. Raises ``ValueError`` if ``data`` has fewer than
    2 dimensions, or (when concrete) ``sizes``/``ratios`` are empty, not 1-D,
    non-finite or not positive. Jitted with non-positive sizes/ratios, the
    formula is applied as is (``sqrt`` of a negative ratio gives NaN anchors).
    """
    shape = np.shape(data)  # tracers, arrays and nested lists
    if len(shape) < 2:
        raise ValueError(f"data: needs at least 2 dimensions (..., H, W), got shape {shape}")
    s = v.positive_list(sizes, "sizes")
    r = v.positive_list(ratios, "ratios")
    return _prior(int(shape[-2]), int(shape[-1]), s, r)
