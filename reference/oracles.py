"""Independent oracles: computed by other libraries, sharing no code with the reference.

- :func:`shapely_iou`: IoU from shapely polygons (GEOS), intersection area over
  union area, 0 where the union is empty.
- :func:`torchvision_nms`: ``torchvision.ops.nms`` taking and returning NumPy.

Both import their library lazily, so ``import reference`` needs neither.
"""

from __future__ import annotations

import numpy as np


def shapely_iou(boxes1, boxes2) -> np.ndarray:
    """IoU of every pair of ``(N, 4)`` and ``(M, 4)`` corner boxes, via shapely polygons."""
    import shapely

    b1 = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    b2 = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    p1 = shapely.box(b1[:, 0], b1[:, 1], b1[:, 2], b1[:, 3])
    p2 = shapely.box(b2[:, 0], b2[:, 1], b2[:, 2], b2[:, 3])
    inter = shapely.area(shapely.intersection(p1[:, None], p2[None, :]))
    union = shapely.area(shapely.union(p1[:, None], p2[None, :]))
    out = np.zeros((len(b1), len(b2)))
    np.divide(inter, union, out=out, where=union > 0)
    return out


def torchvision_nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """``torchvision.ops.nms`` on NumPy input (float64, CPU); kept indices as int64."""
    import torch
    import torchvision

    b = torch.as_tensor(np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
    s = torch.as_tensor(np.asarray(scores, dtype=np.float64).reshape(-1))
    return torchvision.ops.nms(b, s, float(iou_threshold)).numpy().astype(np.int64)
