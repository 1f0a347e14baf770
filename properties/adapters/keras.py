"""Keras 3's ``keras.utils.bounding_boxes`` under the suite (``--impl=keras``), on JAX.

Provides ``box_iou`` (``compute_iou``), the conversions (``convert_format`` between ``yxyx`` and
``center_yxhw``) and ``offset_inverse`` (``decode_deltas_to_boxes`` with ``variance=(0.1, 0.1,
0.2, 0.2)``, d2l's weights 10, 10, 5, 5, and ``encoded_format="center_xywh"``, which puts the
deltas in the contract's ``(x, y, w, h)`` order). Not ``offset_boxes``: ``encode_box_to_deltas``
has no ``eps`` (it clamps sides at 1e-7 instead). Boxes are passed as ``"yxyx"``, the format
``compute_iou`` computes in. Conventions: the ``keras`` preset.

The backend is JAX: ``KERAS_BACKEND=jax`` is set before Keras is imported; a Keras already
imported with another backend is an ``ImportError``.
"""

from __future__ import annotations

import numpy as np

from . import keras_on_jax, snippet

keras = keras_on_jax("keras")
from keras.utils import bounding_boxes  # noqa: E402

LIBRARY = "keras"
CONVENTIONS = "keras"
CHECKS_ARGUMENTS = False
FORMAT = "yxyx"
VARIANCE = (0.1, 0.1, 0.2, 0.2)


def box_iou(boxes1, boxes2) -> np.ndarray:
    return np.asarray(bounding_boxes.compute_iou(boxes1, boxes2, FORMAT))


def box_corner_to_center(boxes) -> np.ndarray:
    return np.asarray(bounding_boxes.convert_format(boxes, FORMAT, "center_yxhw"))


def box_center_to_corner(boxes) -> np.ndarray:
    return np.asarray(bounding_boxes.convert_format(boxes, "center_yxhw", FORMAT))


def offset_inverse(anchors, offset_preds) -> np.ndarray:
    return np.asarray(
        bounding_boxes.decode_deltas_to_boxes(
            anchors, offset_preds, FORMAT, FORMAT, "center_xywh", list(VARIANCE)
        )
    )


_CALLS = {
    "box_iou": f'bounding_boxes.compute_iou(boxes1, boxes2, "{FORMAT}")',
    "box_corner_to_center": f'bounding_boxes.convert_format(boxes, "{FORMAT}", "center_yxhw")',
    "box_center_to_corner": f'bounding_boxes.convert_format(boxes, "center_yxhw", "{FORMAT}")',
    "offset_inverse": f'bounding_boxes.decode_deltas_to_boxes(anchors, offset_preds, "{FORMAT}", '
    f'"{FORMAT}", "center_xywh", {list(VARIANCE)})',
}


def repro(function: str, args: dict) -> str:
    imports = [
        "import os",
        'os.environ["KERAS_BACKEND"] = "jax"',
        "from keras.utils import bounding_boxes",
    ]
    return snippet(imports, args, f"np.asarray({_CALLS[function]})")
