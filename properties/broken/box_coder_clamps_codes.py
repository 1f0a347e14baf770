"""BoxCoder.decode clamps the size codes before dividing them by the weights.

Bug: ``min(rel_codes[:, 2:], clip) / (ww, wh)`` instead of torchvision's
``min(rel_codes[:, 2:] / (ww, wh), clip)``: with weights above 1 (the box head's and SSD's
``(10, 10, 5, 5)``) every box is clamped at ``exp(clip / 5)``, about 2.3 times its proposal,
instead of 62.5 times. The clamp must sit where torchvision applies it (CONTRACT.md §3.3;
PITFALLS.md, "Beyond the chapter": box coders clamp differently, torchvision from above
after the weights, mmdetection symmetrically).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_box_coder.py::test_decode_matches_reference",
    "test_box_coder.py::test_decode_of_encode_is_the_box_clamped_from_above",
]

BUGS = [
    Edit("box_coder.py", f"np.minimum(o[:, {k}] / {w}, self.bbox_xform_clip)",
         f"np.minimum(o[:, {k}], self.bbox_xform_clip) / {w}")
    for k, w in ((2, "ww"), (3, "wh"))
]  # fmt: skip
globals().update(implementation(__name__, *BUGS))
