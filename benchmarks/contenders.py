"""How each contender runs each operation.

``prepare(op, contender, inputs)`` converts the workload's NumPy inputs to the
contender's own arrays (on its device), compiles and warms it, and returns a
``Prepared`` whose ``call()`` runs the operation once and waits for the result
(``block_until_ready`` for JAX, ``torch.cuda.synchronize`` for CUDA). Only
``call()`` is timed. It raises ``Unavailable`` when the contender cannot run the
operation here (no such op, no CUDA, an attribute ``jaximpl`` does not have yet).

On ``box_iou`` three write probes run too (``workloads.PROBES``): a plain write of
the ``(N, M)`` float32 output, the bound a ``box_iou`` cannot beat.

Compile time is reported apart from run time:

- ``jaximpl``: wall time of ``jax.jit(f).lower(*args).compile()`` (tracing,
  lowering and XLA compilation); the timed call is that compiled executable. NMS
  and detection compile on CPU with ``jaximpl.COMPILER_OPTIONS``, the options
  jaximpl's own entry points use and its README tells users to pass to their
  ``jit`` (512-bit vectors where the CPU has them).
- ``naive-d2l``: its jitted pieces are compiled on the first call, so its compile
  time is the first call's time minus the second's.

``BENCH_JAXIMPL=module`` benchmarks another module with ``jaximpl``'s API in its
place (a fork, or a deliberately slowed wrapper to check that the gate fails).

The contenders, one module each: :mod:`benchmarks.contenders_jax` (``jaximpl``, the naive d2l
port, the chapter under one jit, the write probes), :mod:`benchmarks.contenders_torch`
(torchvision) and, here, the NumPy reference; what they share is in ``benchmarks/_shared.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import contenders_jax, contenders_torch
from . import workloads as wl
from ._shared import Prepared, Unavailable, _f64, _need, _reference
from ._shared import jaximpl_module as jaximpl_module
from .contenders_torch import torch_detection as torch_detection


def prepare(op: str, contender: str, inputs: dict) -> Prepared:
    fn = _PREPARERS.get((op, contender))
    if fn is None:
        raise Unavailable(f"{contender} has no {op}")
    return fn(inputs)


# ------------------------------------------------------------ NumPy reference


def _ref_box_iou(inp):
    f = _need(_reference(), "box_iou")
    b1, b2 = _f64(inp["boxes1"], inp["boxes2"])
    return Prepared(lambda: f(b1, b2))


def _ref_nms(inp):
    f = _need(_reference(), "nms")
    boxes, scores = _f64(inp["boxes"], inp["scores"])
    t = inp["iou_threshold"]
    p = Prepared(lambda: f(boxes, scores, t))
    p.notes["kept"] = len(p.call())
    return p


def _ref_prior(inp):
    f = _need(_reference(), "multibox_prior")
    data = np.zeros(inp["data_shape"], np.float32)
    return Prepared(lambda: f(data, inp["sizes"], inp["ratios"]))


def _ref_target(inp):
    f = _need(_reference(), "multibox_target")
    anchors, labels = _f64(inp["anchors"], inp["labels"])
    return Prepared(lambda: f(anchors, labels))


def _ref_detection(inp):
    f = _need(_reference(), "multibox_detection")
    probs, offs, anchors = _f64(inp["cls_probs"], inp["offset_preds"], inp["anchors"])
    return Prepared(lambda: f(probs, offs, anchors))


def _ref_loss(op: str):
    """The reference's loss and its analytic gradient (``*_loss_grad``), float64."""

    def prepare_(inp):
        loss, grad = _need(_reference(), op), _need(_reference(), f"{op}_grad")
        b1, b2 = _f64(inp["boxes1"], inp["boxes2"])
        return Prepared(lambda: (loss(b1, b2, "sum"), grad(b1, b2)[0]))

    return prepare_


# ------------------------------------------------------------ class-aware NMS
# CONTRACT.md §3.2: the reference's per-class loop.


def _ref_batched_nms(inp):
    f = _need(_reference(), "batched_nms")
    boxes, scores = _f64(inp["boxes"], inp["scores"])
    idxs, t = inp["idxs"].astype(np.int64), inp["iou_threshold"]
    p = Prepared(lambda: f(boxes, scores, idxs, t))
    p.notes["kept"] = len(p.call())
    return p


# The reference's preparers by operation; then every contender's, by (operation, contender).
_REFERENCE: dict[str, Callable[[dict], Prepared]] = {
    "box_iou": _ref_box_iou,
    "nms": _ref_nms,
    "multibox_prior": _ref_prior,
    "multibox_target": _ref_target,
    "multibox_detection": _ref_detection,
    "batched_nms": _ref_batched_nms,
    **{op: _ref_loss(op) for op in wl.LOSS_OPS},
}
_PREPARERS: dict[tuple[str, str], Callable[[dict], Prepared]] = {
    **{(op, wl.REFERENCE): f for op, f in _REFERENCE.items()},
    **contenders_jax.PREPARERS,
    **contenders_torch.PREPARERS,
}
