"""Argument checks shared by the public (eager) entry points of :mod:`jaximpl`.

Two kinds of checks:

- *shape and dtype* checks (rank, last dimension, matching lengths; integers
  and floats are numbers, bool, complex, object and strings are not) always
  run: shapes and dtypes are static, so they work on concrete arrays and on
  tracers alike;
- *value* checks (finite, ``x1 <= x2``, thresholds in ``[0, 1]``, ...) run only
  when the argument is concrete. Under ``jax.jit`` the argument is a
  :class:`jax.core.Tracer`, no value can be inspected, and the check is skipped;
  each public function documents what its jitted form returns then.

A value check of an array of up to :data:`HOST_CHECK_MAX` elements runs on the host
with NumPy: a jitted check compiles once per shape, and for small arrays that
compile (a tenth of a second) is the first call's largest cost. A larger array is
checked by one small jitted reduction on the device (one boolean comes back to the
host); only when it fails is the array copied to the host to build the message,
which has the same form as the reference's: ``"boxes: x2 < x1 in row 3 (0.5 > 0.25)"``.
Both give the same answer (comparisons and ``isfinite`` are exact).
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# Concrete arrays up to this many elements are value-checked on the host (see the module doc).
HOST_CHECK_MAX = 1 << 16


def is_concrete(x: Any) -> bool:
    """True unless ``x`` is a tracer (an abstract value inside ``jit``/``vmap``/``grad``)."""
    return not isinstance(x, jax.core.Tracer)


def float_dtype(dtype) -> np.dtype:
    """The dtype computations run in: float32 at least, float64 if given (and enabled)."""
    dtype = np.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.floating):
        return jnp.promote_types(dtype, jnp.float32)
    return jnp.dtype(jnp.float32)


def real_dtype(dtype) -> bool:
    """True for the dtypes read as numbers: integers and floats (not bool, not complex)."""
    return bool(jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating))


def as_array(
    x: Any, name: str, ndim: int | None = None, last: int | None = None, dtype=None
) -> jax.Array:
    """``x`` as a floating JAX array (float32 unless float64 is given), checking its shape.

    Integer and float input is read as numbers; bool, complex, object, string and
    any other dtype is a ``ValueError`` (also under ``jit``: dtypes are static).
    """
    if not isinstance(x, jax.Array):
        try:
            x = np.asarray(x)
        except Exception:  # noqa: BLE001  (a sequence of tracers: jit of a tuple argument)
            try:
                x = jnp.asarray(x)
            except (TypeError, ValueError) as e:
                raise ValueError(f"{name}: cannot be read as an array of numbers ({e})") from None
    if not real_dtype(x.dtype):
        raise ValueError(f"{name}: expected real numbers (integers or floats), got dtype {x.dtype}")
    # Host input goes to the device with device_put: jnp.asarray of a NumPy array compiles a
    # copy program for every new shape.
    x = jax.device_put(x) if isinstance(x, np.ndarray) else jnp.asarray(x)
    x = x.astype(float_dtype(x.dtype) if dtype is None else dtype)
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {tuple(x.shape)}")
    if last is not None and (x.ndim == 0 or x.shape[-1] != last):
        raise ValueError(f"{name}: last dimension must be {last}, got shape {tuple(x.shape)}")
    return x


def host_array(x: Any, name: str, ndim: int, last: int | None = None) -> np.ndarray:
    """``x`` as a host NumPy array of its computation dtype, checked like :func:`as_array`.

    For the eager entry points that pad to a shape bucket (:mod:`jaximpl._buckets`):
    nothing here compiles, whatever the shape. ``x`` must be concrete.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: cannot be read as an array of numbers ({e})") from None
    if not real_dtype(arr.dtype):
        raise ValueError(
            f"{name}: expected real numbers (integers or floats), got dtype {arr.dtype}"
        )
    arr = arr.astype(jax.dtypes.canonicalize_dtype(float_dtype(arr.dtype)), copy=False)
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {tuple(arr.shape)}")
    if last is not None and (arr.ndim == 0 or arr.shape[-1] != last):
        raise ValueError(f"{name}: last dimension must be {last}, got shape {tuple(arr.shape)}")
    return arr


def host_check_boxes(arr: np.ndarray, name: str) -> None:
    """Finite, ``x1 <= x2`` and ``y1 <= y2`` for every box of the host array ``arr`` (..., 4)."""
    ok = np.isfinite(arr).all(axis=-1) & (arr[..., 2] >= arr[..., 0]) & (arr[..., 3] >= arr[..., 1])
    if not ok.all():
        raise_bad_boxes(arr, name)


@jax.jit
def all_finite(x: jax.Array) -> jax.Array:
    return jnp.all(jnp.isfinite(x))


@jax.jit
def corner_boxes_ok(x: jax.Array, rows: jax.Array) -> jax.Array:
    ok = jnp.isfinite(x).all(axis=-1) & (x[..., 2] >= x[..., 0]) & (x[..., 3] >= x[..., 1])
    return jnp.all(ok | ~rows)


def finite(x: jax.Array) -> bool:
    """Whether every entry of the concrete ``x`` is finite (on the host when small)."""
    if x.size <= HOST_CHECK_MAX:
        return bool(np.isfinite(np.asarray(x)).all())
    return bool(all_finite(x))


def check_finite(x: jax.Array, name: str, what: str = "values") -> None:
    """Raise unless every entry of a concrete ``x`` is finite (no-op on tracers)."""
    if not is_concrete(x) or x.size == 0 or finite(x):
        return
    raise_non_finite(np.asarray(x), name, what)


def raise_non_finite(arr: np.ndarray, name: str, what: str = "values") -> None:
    """Raise naming the first non-finite entry of the host array ``arr`` (if any)."""
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: non-finite {what} at index {where} ({arr[where]})")


def check_corner_boxes(x: jax.Array, name: str, rows: jax.Array | None = None) -> None:
    """Finite, ``x1 <= x2`` and ``y1 <= y2`` for every box of ``x[..., 4]`` selected by ``rows``."""
    if not is_concrete(x) or x.size == 0:
        return
    sel = np.ones(x.shape[:-1], bool) if rows is None else rows
    if x.size > HOST_CHECK_MAX and bool(corner_boxes_ok(x, sel)):
        return
    host_check_boxes(np.where(np.asarray(sel)[..., None], np.asarray(x), 0.0), name)


def raise_bad_boxes(arr: np.ndarray, name: str) -> None:
    """Raise naming the first invalid box of the host array ``arr[..., 4]`` (if any)."""
    raise_non_finite(arr, name, "coordinates")
    for axis, (lo, hi) in (("x", (0, 2)), ("y", (1, 3))):
        bad = arr[..., hi] < arr[..., lo]
        if bad.any():
            row = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name}: {axis}2 < {axis}1 in row {row if len(row) > 1 else row[0]} "
                f"({arr[row][lo]} > {arr[row][hi]})"
            )


def boxes(x: Any, name: str, host: bool = False) -> jax.Array | np.ndarray:
    """A valid ``(N, 4)`` array of corner boxes (values checked when concrete); ``host``:
    checked on the host and returned as a NumPy array (see :func:`host_array`)."""
    arr = host_array(x, name, ndim=2, last=4) if host else as_array(x, name, ndim=2, last=4)
    (host_check_boxes if host else check_corner_boxes)(arr, name)
    return arr


def anchors_1a4(x: Any, name: str = "anchors", host: bool = False) -> jax.Array | np.ndarray:
    """The ``(1, A, 4)`` anchors of ``multibox_target`` / ``multibox_detection``, as ``(A, 4)``
    (``host``: as in :func:`boxes`)."""
    arr = host_array(x, name, ndim=3, last=4) if host else as_array(x, name, ndim=3, last=4)
    if arr.shape[0] != 1:
        raise ValueError(f"{name}: expected shape (1, A, 4), got {tuple(arr.shape)}")
    arr = arr[0]
    (host_check_boxes if host else check_corner_boxes)(arr, name)
    return arr


def anchor_extent(anchors: jax.Array, name: str) -> None:
    """Box coding divides by the anchor's width and height: both must be > 0."""
    if not is_concrete(anchors) or anchors.size == 0:
        return
    arr = np.asarray(anchors)
    for lo, hi, what in ((0, 2, "width"), (1, 3, "height")):
        zero = arr[:, hi] - arr[:, lo] <= 0
        if zero.any():
            i = int(np.argmax(zero))
            raise ValueError(f"{name}: zero {what} in row {i} (box coding divides by it)")


def scalar(x: Any, name: str, expected: str) -> float | None:
    """The value of a real scalar argument (``None`` for a tracer: only its shape and dtype
    are checked); bools, complex numbers, strings and arrays are a ``ValueError``."""
    if not is_concrete(x):
        if jnp.ndim(x) != 0:
            raise ValueError(f"{name}: must be a scalar, got shape {jnp.shape(x)}")
        if not real_dtype(jnp.result_type(x)):
            raise ValueError(f"{name}: must be {expected}, got a tracer of dtype {x.dtype}")
        return None
    number_like = numbers.Real | np.ndarray | np.generic | jax.Array
    if isinstance(x, bool) or not isinstance(x, number_like):
        raise ValueError(f"{name}: must be {expected}, got {x!r}")
    arr = np.asarray(x)
    if arr.ndim != 0:
        raise ValueError(f"{name}: must be a scalar, got shape {arr.shape}")
    if not real_dtype(arr.dtype):
        raise ValueError(f"{name}: must be {expected}, got {x!r}")
    return float(arr)


def threshold(t: Any, name: str, dtype=jnp.float32, host: bool = False) -> jax.Array:
    """A scalar in ``[0, 1]`` (checked when concrete), as a 0-d array of ``dtype``
    (``host``: a NumPy one, for a concrete ``t``: a jitted call takes it as it takes a JAX
    array, without a conversion of its own dispatched first)."""
    value = scalar(t, name, "a number in [0, 1]")
    if value is not None and not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ValueError(f"{name}: must be in [0, 1], got {value}")
    if host and value is not None:
        return np.asarray(value, dtype=jax.dtypes.canonicalize_dtype(dtype))
    return jnp.asarray(t, dtype=dtype)


def nonnegative(x: Any, name: str) -> None:
    """A finite real scalar ``>= 0`` (value checked when concrete)."""
    value = scalar(x, name, "a finite number >= 0")
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: must be a finite number >= 0, got {x!r}")


def same_length(a: jax.Array, name_a: str, b: jax.Array, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_b}: length {b.shape[0]} does not match {name_a} (length {a.shape[0]})"
        )


def positive_list(values: Any, name: str) -> jax.Array:
    """A non-empty 1-D array of finite positive numbers (values checked when concrete)."""
    arr = as_array(values, name)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence, got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{name}: must not be empty")
    if is_concrete(arr):
        check_finite(arr, name)
        host = np.asarray(arr)
        bad = host <= 0
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name}: must be positive, got {host[i]} at index {i}")
    return arr


def output_size(n: Any, name: str = "max_output_size") -> int:
    """A static non-negative Python int (``max_output_size`` of ``nms_padded``)."""
    if isinstance(n, jax.core.Tracer):
        raise ValueError(
            f"{name}: must be a static Python int, got a traced value; mark it static "
            f"(jax.jit(..., static_argnames='{name}'))"
        )
    if isinstance(n, bool | np.bool_):
        raise ValueError(f"{name}: must be a non-negative int, got {n!r}")
    try:
        value = operator.index(n)
    except TypeError:
        raise ValueError(f"{name}: must be a non-negative int, got {n!r}") from None
    if value < 0:
        raise ValueError(f"{name}: must be a non-negative int, got {value}")
    return value
