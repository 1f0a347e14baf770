"""``torchvision.ops`` under the suite (``--impl=torchvision``).

Provides ``box_iou`` (``torchvision.ops.box_iou``), ``nms`` (``torchvision.ops.nms``, on the CPU)
and the two conversions (``torchvision.ops.box_convert`` between ``xyxy`` and ``cxcywh``).
Tensors keep the dtype of the NumPy input (float32 in the suite). Conventions: the
``torchvision`` preset (NaN for an empty union, NMS ties unspecified).
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision

from . import snippet

LIBRARY = "torchvision"
CONVENTIONS = "torchvision"
CHECKS_ARGUMENTS = False


def _tensor(x) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.asarray(x)))


def box_iou(boxes1, boxes2) -> np.ndarray:
    return torchvision.ops.box_iou(_tensor(boxes1), _tensor(boxes2)).numpy()


def nms(boxes, scores, iou_threshold) -> np.ndarray:
    return torchvision.ops.nms(_tensor(boxes), _tensor(scores), float(iou_threshold)).numpy()


def box_corner_to_center(boxes) -> np.ndarray:
    return torchvision.ops.box_convert(_tensor(boxes), "xyxy", "cxcywh").numpy()


def box_center_to_corner(boxes) -> np.ndarray:
    return torchvision.ops.box_convert(_tensor(boxes), "cxcywh", "xyxy").numpy()


_CONVERT = 'torchvision.ops.box_convert(torch.from_numpy(boxes), "{}", "{}")'
_CALLS = {
    "box_iou": "torchvision.ops.box_iou(torch.from_numpy(boxes1), torch.from_numpy(boxes2))",
    "nms": "torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou_threshold)",
    "box_corner_to_center": _CONVERT.format("xyxy", "cxcywh"),
    "box_center_to_corner": _CONVERT.format("cxcywh", "xyxy"),
}


def repro(function: str, args: dict) -> str:
    return snippet(["import torch", "import torchvision"], args, f"{_CALLS[function]}.numpy()")
