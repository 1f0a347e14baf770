"""keras-hub's NMS under the suite (``--impl=keras_hub``), on JAX.

Provides ``nms``: ``non_max_suppression`` of ``keras_hub/src/layers/modeling/
non_max_supression.py``, the kernel of ``keras_hub.layers.NonMaxSuppression`` (the layer itself
returns boxes, not indices). It runs under ``jax.jit``, as it does inside a Keras model on JAX
(eager, every call compiles its loops again: seconds). The translation: one image (a batch of
1), ``max_output_size = N``, ``score_threshold = -inf`` (the contract's NMS has no score
threshold; the kernel's default 0 would drop scores <= 0), and the padded indices cut to the
count it returns. Conventions: the ``keras_hub`` preset.
"""

from __future__ import annotations

import numpy as np

from . import keras_on_jax, snippet

keras = keras_on_jax("keras_hub")
import jax  # noqa: E402
from keras_hub.src.layers.modeling.non_max_supression import non_max_suppression  # noqa: E402

LIBRARY = "keras-hub"
CONVENTIONS = "keras_hub"
CHECKS_ARGUMENTS = False


@jax.jit
def _nms(boxes, scores, iou_threshold):
    n = boxes.shape[0]
    return non_max_suppression(
        boxes[None], scores[None], n, iou_threshold, score_threshold=float("-inf")
    )


def nms(boxes, scores, iou_threshold) -> np.ndarray:
    idx, count = _nms(np.asarray(boxes), np.asarray(scores), np.float32(iou_threshold))
    return np.asarray(idx)[0, : int(np.asarray(count)[0])]


def repro(function: str, args: dict) -> str:
    imports = [
        "import os",
        'os.environ["KERAS_BACKEND"] = "jax"',
        "from keras_hub.src.layers.modeling.non_max_supression import non_max_suppression",
    ]
    before = (
        "idx, count = non_max_suppression(boxes[None], scores[None], len(boxes), iou_threshold, "
        'score_threshold=float("-inf"))'
    )
    return snippet(imports, args, "np.asarray(idx)[0, : int(count[0])]", before)
