"""batched_nms_padded pads its indices with 0 instead of -1.

Bug: the unused slots of a fixed-size result are filled with index 0, a valid index, so a
consumer that does not read the count takes box 0 again and again (TensorFlow's padded NMS,
tensorflow/tensorflow #55323; PITFALLS.md, "NMS" and "Beyond the chapter").
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's

CAUGHT_BY: list[str] = [
    "test_batched_nms.py::test_batched_nms_padded_is_prefix_of_batched_nms",
    "test_batched_nms.py::test_batched_nms_padding_is_never_a_valid_index",
]


def batched_nms_padded(boxes, scores, idxs, iou_threshold, max_output_size, score_threshold=None):
    indices, counts = reference.batched_nms_padded(
        boxes, scores, idxs, iou_threshold, max_output_size, score_threshold
    )
    slots = np.arange(indices.shape[1])[None, :]
    return np.where(slots < counts[:, None], indices, 0), counts  # BUG: 0 is a valid index
