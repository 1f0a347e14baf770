"""Test fixture: ``jaximpl`` made slower on purpose, to watch the speed gate fail.

    BENCH_JAXIMPL=benchmarks.slowed_jaximpl python -m benchmarks gate

Same API and same results as ``jaximpl``; the timed operations (``box_iou``,
``nms_padded``, ``multibox_prior``, ``multibox_target``, ``multibox_detection``, the
GIoU-family losses) first pass their first array argument (``sizes`` for
``multibox_prior``; for a loss ``boxes2``, which the benchmark does not differentiate:
a host callback has no derivative) through
a host callback that sleeps ``BENCH_SLOW_MS`` milliseconds (default 50) and
returns it unchanged. The callback is a data dependency of the real computation,
so it runs inside the jitted and compiled executable on every call. Used by
``benchmarks/test_gate.py::test_gate_fails_on_slowed_jaximpl``; not a contender.
"""

from __future__ import annotations

import functools
import os
import time

import jax
import numpy as np

import jaximpl
from jaximpl import *  # noqa: F403  (the rest of the API, unchanged)

DELAY_S = float(os.environ.get("BENCH_SLOW_MS", "50")) / 1000


def _sleep_then_return(x):
    time.sleep(DELAY_S)
    return np.asarray(x)


def _delayed(x):
    x = jax.numpy.asarray(x)
    return jax.pure_callback(_sleep_then_return, jax.ShapeDtypeStruct(x.shape, x.dtype), x)


def _slowed(fn, arg: int = 0):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args = list(args)
        args[arg] = _delayed(args[arg])
        return fn(*args, **kwargs)

    return wrapper


box_iou = _slowed(jaximpl.box_iou)
nms_padded = _slowed(jaximpl.nms_padded)
multibox_prior = _slowed(jaximpl.multibox_prior, arg=1)  # only data's shape is used: delay sizes
multibox_target = _slowed(jaximpl.multibox_target)
multibox_detection = _slowed(jaximpl.multibox_detection)
generalized_box_iou_loss = _slowed(jaximpl.generalized_box_iou_loss, arg=1)
distance_box_iou_loss = _slowed(jaximpl.distance_box_iou_loss, arg=1)
complete_box_iou_loss = _slowed(jaximpl.complete_box_iou_loss, arg=1)
