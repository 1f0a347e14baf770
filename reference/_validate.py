"""Argument checks shared by the public functions of the reference.

Every check raises ``ValueError`` with a message that starts with the argument's
name and says what is wrong, e.g. ``"boxes: x2 < x1 in row 3 (0.5 > 0.25)"``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def real_dtype(dtype: np.dtype) -> bool:
    """True for the dtypes read as numbers: integers and floats (not bool, not complex)."""
    return bool(np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating))


def as_array(x, name: str, ndim: int | None = None, last: int | None = None) -> np.ndarray:
    """``x`` as a float64 array, checking its dtype, rank and last dimension.

    Integers and floats are read as numbers; bool, complex, object, string and
    any other dtype is rejected (``float64`` of a complex array would drop the
    imaginary part, of a string array parse it).
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: cannot be read as an array of numbers ({e})") from None
    if not real_dtype(arr.dtype):
        raise ValueError(
            f"{name}: expected real numbers (integers or floats), got dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {arr.shape}")
    if last is not None and (arr.ndim == 0 or arr.shape[-1] != last):
        raise ValueError(f"{name}: last dimension must be {last}, got shape {arr.shape}")
    return arr


def check_finite(arr: np.ndarray, name: str, what: str = "values") -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: non-finite {what} at index {where} ({arr[where]})")


def check_corner_boxes(arr: np.ndarray, name: str) -> None:
    """Finite, ``x1 <= x2`` and ``y1 <= y2`` for every box in ``arr[..., 4]``."""
    check_finite(arr, name, "coordinates")
    for axis, (lo, hi) in (("x", (0, 2)), ("y", (1, 3))):
        bad = arr[..., hi] < arr[..., lo]
        if bad.any():
            row = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name}: {axis}2 < {axis}1 in row {row if len(row) > 1 else row[0]} "
                f"({arr[row][lo]} > {arr[row][hi]})"
            )


def boxes(x, name: str) -> np.ndarray:
    """A valid ``(N, 4)`` array of corner boxes, as float64."""
    arr = as_array(x, name, ndim=2, last=4)
    check_corner_boxes(arr, name)
    return arr


def real_scalar(x, name: str, what: str) -> float:
    """A real scalar as a float: bools, complex numbers, strings and arrays are rejected."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real | np.ndarray | np.generic):
        raise ValueError(f"{name}: must be {what}, got {x!r}")
    arr = np.asarray(x)
    if arr.ndim != 0:
        raise ValueError(f"{name}: must be a scalar, got shape {arr.shape}")
    if not real_dtype(arr.dtype):  # np.bool_, complex, strings
        raise ValueError(f"{name}: must be {what}, got {x!r}")
    return float(arr)


def threshold(t, name: str) -> float:
    """A number in ``[0, 1]``."""
    value = real_scalar(t, name, "a number in [0, 1]")
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ValueError(f"{name}: must be in [0, 1], got {value}")
    return value


def nonnegative(x, name: str) -> float:
    """A finite number ``>= 0``."""
    value = real_scalar(x, name, "a finite number >= 0")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: must be a finite number >= 0, got {x!r}")
    return value


def same_length(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_b}: length {b.shape[0]} does not match {name_a} (length {a.shape[0]})"
        )


def positive_list(values, name: str) -> list[float]:
    """A non-empty 1-D sequence of finite positive numbers."""
    arr = as_array(values, name)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: must not be empty")
    check_finite(arr, name)
    bad = arr <= 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}: must be positive, got {arr[i]} at index {i}")
    return [float(v) for v in arr]
