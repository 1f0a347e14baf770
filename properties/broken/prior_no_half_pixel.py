"""multibox_prior centres anchors on the pixel's corner, not its centre.

Bug: pixel ``(i, j)`` gets centre ``(j / W, i / H)`` instead of
``((j + 0.5) / W, (i + 0.5) / H)``: the ``+ 0.5`` offset is missing, so every
anchor is shifted half a pixel up and left. The classic off-by-half in anchor
generators (d2l writes ``offset_h, offset_w = 0.5, 0.5`` precisely to avoid it).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_prior.py::test_multibox_prior_anchor_index_and_pixel_centres",
    "test_multibox_prior.py::test_multibox_prior_matches_reference",
]

BUG = Edit(
    "anchors.py",
    "(np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width",
    "np.arange(height) / height, np.arange(width) / width",
)
globals().update(implementation(__name__, BUG))
