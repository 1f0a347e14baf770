"""ONNX ``NonMaxSuppression`` in ONNX Runtime under the suite (``--impl=onnxruntime``).

Provides ``nms``: the graph of :mod:`properties.adapters._onnx_model` (one image, one class,
``max_output_boxes_per_class = N``, no score threshold) in an ``InferenceSession`` on the CPU
execution provider; the result is the third column of ``selected_indices``. Conventions: the
``onnx`` preset.
"""

from __future__ import annotations

import numpy as np
import onnxruntime

from . import snippet
from ._onnx_model import MODEL_SOURCE, feeds, nms_model

LIBRARY = "onnxruntime"
CONVENTIONS = "onnx"
CHECKS_ARGUMENTS = False

_SESSION = onnxruntime.InferenceSession(
    nms_model().SerializeToString(), providers=["CPUExecutionProvider"]
)


def nms(boxes, scores, iou_threshold) -> np.ndarray:
    (selected,) = _SESSION.run(None, feeds(boxes, scores, iou_threshold))
    return np.asarray(selected)[:, 2]


def repro(function: str, args: dict) -> str:
    imports = ["import onnxruntime"]
    call = (
        "onnxruntime.InferenceSession(model.SerializeToString(), "
        'providers=["CPUExecutionProvider"]).run(None, feeds)[0][:, 2]'
    )
    return snippet(imports, args, call, before=MODEL_SOURCE)
