"""multibox_prior walks the pixels column by column.

Bug: ``np.meshgrid`` with its default ``indexing="xy"`` on (columns, rows)
and a reshape in the wrong order give anchor index ``(j * H + i) * (n+m-1) + k``
instead of ``(i * W + j) * (n+m-1) + k``: the anchors are all there, but
pixel (0, 1)'s anchors sit where pixel (1, 0)'s belong. The meshgrid
``indexing`` mix-up is a perennial NumPy / PyTorch porting bug.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_prior.py::test_multibox_prior_anchor_index_and_pixel_centres",
    "test_multibox_prior.py::test_multibox_prior_matches_reference",
]

BUGS = (
    Edit("anchors.py", 'indexing="ij"', 'indexing="xy"'),
    Edit("anchors.py", "np.empty((height, width,", "np.empty((width, height,"),
)
globals().update(implementation(__name__, *BUGS))
