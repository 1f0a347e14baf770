"""ONNX ``NonMaxSuppression`` in ``onnx.reference`` under the suite (``--impl=onnx_reference``).

Provides ``nms``: the graph of :mod:`properties.adapters._onnx_model` (one image, one class,
``max_output_boxes_per_class = N``, no score threshold) run by ``onnx.reference``'s
``ReferenceEvaluator``; the result is the third column of ``selected_indices``. Conventions:
the ``onnx`` preset.
"""

from __future__ import annotations

import numpy as np
from onnx.reference import ReferenceEvaluator

from . import snippet
from ._onnx_model import MODEL_SOURCE, feeds, nms_model

LIBRARY = "onnx"
CONVENTIONS = "onnx"
CHECKS_ARGUMENTS = False

_EVALUATOR = ReferenceEvaluator(nms_model())


def nms(boxes, scores, iou_threshold) -> np.ndarray:
    (selected,) = _EVALUATOR.run(None, feeds(boxes, scores, iou_threshold))
    return np.asarray(selected)[:, 2]


def repro(function: str, args: dict) -> str:
    imports = ["from onnx.reference import ReferenceEvaluator"]
    call = "ReferenceEvaluator(model).run(None, feeds)[0][:, 2]"
    return snippet(imports, args, call, before=MODEL_SOURCE)
