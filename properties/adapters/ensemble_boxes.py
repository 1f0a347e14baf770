"""ensemble-boxes' NMS under the suite (``--impl=ensemble_boxes``).

Provides ``nms``: ``nms_float_fast(dets, scores, thresh)`` of ``ensemble_boxes/
ensemble_boxes_nms.py``, the NumPy (numba) kernel that ``ensemble_boxes.nms`` runs per label,
and which returns the kept indices. The public ``ensemble_boxes.nms`` around it takes lists of
models' predictions, clips coordinates to [0, 1], drops zero-area boxes and returns boxes, not
indices: preprocessing for ensembles, not NMS, so the adapter calls the kernel. Boxes go in as
float64 (the dtype ``prepare_boxes`` gives it in ``ensemble_boxes.nms``). Conventions: the
``ensemble_boxes`` preset.
"""

from __future__ import annotations

import numpy as np
from ensemble_boxes.ensemble_boxes_nms import nms_float_fast

from . import snippet

LIBRARY = "ensemble-boxes"
CONVENTIONS = "ensemble_boxes"
CHECKS_ARGUMENTS = False


def nms(boxes, scores, iou_threshold) -> np.ndarray:
    dets = np.asarray(boxes, np.float64).reshape(-1, 4)
    with np.errstate(invalid="ignore", divide="ignore"):  # its 0/0 warns
        keep = nms_float_fast(dets, np.asarray(scores, np.float64), float(iou_threshold))
    return np.asarray(keep, dtype=np.int64)


def repro(function: str, args: dict) -> str:
    imports = ["from ensemble_boxes.ensemble_boxes_nms import nms_float_fast"]
    call = "nms_float_fast(boxes.astype(np.float64), scores.astype(np.float64), iou_threshold)"
    return snippet(imports, args, call)
