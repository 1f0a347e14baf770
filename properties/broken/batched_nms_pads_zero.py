"""batched_nms_padded pads its indices with 0 instead of -1.

Bug: the unused slots of a fixed-size result are filled with index 0, a valid index, so a
consumer that does not read the count takes box 0 again and again (TensorFlow's padded NMS,
tensorflow/tensorflow #55323; PITFALLS.md, "NMS" and "Beyond the chapter").
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_batched_nms.py::test_batched_nms_padded_is_prefix_of_batched_nms",
    "test_batched_nms.py::test_batched_nms_padding_is_never_a_valid_index",
]

BUG = Edit(
    "batched_nms.py",
    "indices = np.full((b.shape[0], size), -1, dtype=np.int64)",
    "indices = np.full((b.shape[0], size), 0, dtype=np.int64)",
)
globals().update(implementation(__name__, BUG))
