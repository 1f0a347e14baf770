"""BoxCoder.decode clamps the size codes before dividing them by the weights.

Bug: ``min(rel_codes[:, 2:], clip) / (ww, wh)`` instead of torchvision's
``min(rel_codes[:, 2:] / (ww, wh), clip)``: with weights above 1 (the box head's and SSD's
``(10, 10, 5, 5)``) every box is clamped at ``exp(clip / 5)``, about 2.3 times its proposal,
instead of 62.5 times. The clamp must sit where torchvision applies it (CONTRACT.md §3.3;
PITFALLS.md, "Beyond the chapter": box coders clamp differently, torchvision from above
after the weights, mmdetection symmetrically).
"""

from __future__ import annotations

import numpy as np

import reference
from reference import *  # noqa: F403 -- every other function is the reference's


class BoxCoder(reference.BoxCoder):
    def decode(self, rel_codes, boxes):
        o = np.array(rel_codes, dtype=np.float64)
        if o.ndim == 2 and o.shape[-1] == 4:
            # BUG: the codes clamped before the reference divides them by the weights (for
            # weights >= 1 the reference's own clamp then never acts again).
            o[:, 2:] = np.minimum(o[:, 2:], self.bbox_xform_clip)
        return super().decode(o, boxes)


CAUGHT_BY: list[str] = [
    "test_box_coder.py::test_decode_matches_reference",
    "test_box_coder.py::test_decode_of_encode_is_the_box_clamped_from_above",
]
