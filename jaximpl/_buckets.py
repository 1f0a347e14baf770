"""Shape buckets: the eager entry points with a variable-length axis compile a bounded number
of times (CONTRACT.md §4).

XLA compiles one program per input shape; the NMS kernel takes seconds to compile and
milliseconds to run. An eager call whose variable axis has length ``n`` therefore pads that
axis on the host to :func:`bucket` ``(n)`` (at least :data:`MIN_BUCKET`) and passes ``n`` to
the kernel as a traced value; the padding never changes a result (it is visited last and
never kept or counted), the result is trimmed on the host.

- ``nms`` and ``nms_padded`` (eager): the next power of two, so a stream of box counts
  compiles at most once per power of two. The padding costs little: it is sorted (at most
  2x the real boxes) but the NMS loop stops at the tile of the last real box.
- ``multibox_detection`` (eager), the anchors: four buckets per power of two (at most 25%
  padding), because every anchor, padded or not, costs its class maximum and decoding.
- ``assign_anchor_to_bbox`` and ``multibox_target`` (eager), the ground-truth rows: four
  buckets per power of two, at least :data:`MIN_ROWS`, as rows that are padding (never
  assigned; the greedy rounds count the real rows only). The output does not depend on
  ``G``: nothing is trimmed. Every padded row costs its share of the ``A x G`` IoU pass.
"""

from __future__ import annotations

import jax
import numpy as np

# The smallest bucket: one NMS tile (64 boxes); every length up to it shares one program.
MIN_BUCKET = 64
# The smallest bucket of ground-truth rows: up to 8 objects per image share one program.
MIN_ROWS = 8


def bucket(n: int, per_octave: int = 1, minimum: int = MIN_BUCKET) -> int:
    """The padded length of an axis of length ``n``: at least ``minimum`` (a power of two),
    and the next of ``per_octave`` evenly spaced sizes in ``(2^(k-1), 2^k]`` (1: the next
    power of two; 4: multiples of ``2^(k-3)``, at most 25% padding). At most
    ``per_octave`` buckets per power of two."""
    n = max(n, minimum)
    top = 1 << (n - 1).bit_length()
    if per_octave == 1:
        return top
    half = top // 2
    step = half // per_octave
    return half + -(-(n - half) // step) * step


def pad_rows(x: np.ndarray, size: int, value: float = 0, axis: int = 0) -> np.ndarray:
    """The host array ``x`` with its axis ``axis`` (the first) padded to ``size`` with ``value``."""
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, size - x.shape[axis])
    return np.pad(x, widths, constant_values=value)


def to_device(x: np.ndarray, device: jax.Device | None) -> np.ndarray | jax.Array:
    """``x`` put on ``device``; on the default one (``None``) left on the host: a jitted call
    moves it with its arguments, cheaper than a conversion dispatched of its own."""
    return x if device is None else jax.device_put(x, device)


def device_of(*xs: object) -> jax.Device | None:
    """The device of the first single-device JAX array among ``xs`` (``None``: the default),
    so that host-padded input goes back where it came from."""
    for x in xs:
        if isinstance(x, jax.Array) and len(x.devices()) == 1:
            return next(iter(x.devices()))
    return None
