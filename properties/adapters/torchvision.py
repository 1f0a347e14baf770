"""``torchvision.ops`` under the suite (``--impl=torchvision``).

Provides ``box_iou`` (``torchvision.ops.box_iou``), ``nms`` (``torchvision.ops.nms``, on the CPU)
and the two conversions (``torchvision.ops.box_convert`` between ``xyxy`` and ``cxcywh``); of the
detector operations (CONTRACT.md §3), ``box_convert`` (not for ``yxyx``, which torchvision does
not have: "not provided"), ``clip_boxes_to_image`` and ``remove_small_boxes``, whose signatures
are torchvision's.
Tensors keep the dtype of the NumPy input (float32 in the suite). Conventions: the
``torchvision`` preset (NaN for an empty union, NMS ties unspecified).
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision

from . import NotProvided, snippet

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


def box_convert(boxes, in_fmt, out_fmt) -> np.ndarray:
    if "yxyx" in (in_fmt, out_fmt):
        raise NotProvided("yxyx")
    return torchvision.ops.box_convert(_tensor(boxes), in_fmt, out_fmt).numpy()


def clip_boxes_to_image(boxes, size) -> np.ndarray:
    height, width = (float(x) for x in np.asarray(size).reshape(2))  # its Tuple[int, int]
    return torchvision.ops.clip_boxes_to_image(_tensor(boxes), (height, width)).numpy()


def remove_small_boxes(boxes, min_size) -> np.ndarray:
    return torchvision.ops.remove_small_boxes(_tensor(boxes), float(min_size)).numpy()


_CONVERT = 'torchvision.ops.box_convert(torch.from_numpy(boxes), "{}", "{}")'
_CALLS = {
    "box_iou": "torchvision.ops.box_iou(torch.from_numpy(boxes1), torch.from_numpy(boxes2))",
    "nms": "torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou_threshold)",
    "box_corner_to_center": _CONVERT.format("xyxy", "cxcywh"),
    "box_center_to_corner": _CONVERT.format("cxcywh", "xyxy"),
    "box_convert": "torchvision.ops.box_convert(torch.from_numpy(boxes), in_fmt, out_fmt)",
    "clip_boxes_to_image": "torchvision.ops.clip_boxes_to_image(torch.from_numpy(boxes), "
    "tuple(float(x) for x in size))",
    "remove_small_boxes": "torchvision.ops.remove_small_boxes(torch.from_numpy(boxes), "
    "float(min_size))",
}


def repro(function: str, args: dict) -> str:
    return snippet(["import torch", "import torchvision"], args, f"{_CALLS[function]}.numpy()")
