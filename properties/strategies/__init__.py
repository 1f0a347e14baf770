"""Hypothesis strategies for anchor-box code: one package, reusable in your own tests.

Everything returns NumPy arrays (float32 unless stated), shaped as the contract
says. Two families of coordinates:

- *lattice*: multiples of 1/64 in [0, 2]. Areas are multiples of 2**-12 below
  4, so intersections and unions are exact in float32 and the IoU is a single
  correctly rounded division: every implementation gets the same bits, and
  with dyadic thresholds (0, 0.25, 0.5, 0.75, 1) every decision must match
  exactly, including an IoU exactly at the threshold.
  Caveat: two *different* lattice IoUs with unions above about 1 can round to
  the same float32, so a float32 implementation may see a tie where the float64
  reference does not; the properties accept the contract's decision on the
  float32-rounded IoUs there.
- *float*: arbitrary finite floats in a moderate range, where decisions may
  flip on rounding and comparisons must be margin-aware. Use
  :func:`offlattice_boxes` (coordinates snapped to multiples of 2**-24) when a
  float32 implementation is compared with the reference: XLA flushes subnormals
  to zero, so a box 1e-45 high has area 0 in float32 but not in float64 (a range
  limit, not rounding).

Shapes: sizes are drawn from a small set of buckets (``SIZE_BUCKETS``) so that
a jitted implementation compiles a bounded number of times per test.

Every strategy is importable from the package (``from properties.strategies import boxes``)
and lives in one of its modules:

- :mod:`~properties.strategies.lattice`: the lattice constants, size buckets, ``boxes``,
  ``offlattice_boxes``, ``dyadic_thresholds``, ``distinct_scores``;
- :mod:`~properties.strategies.geometry`: IoU pairs at an exact dyadic value, separated and
  zero-area boxes, transformations, coding problems, ``prior_problems``;
- :mod:`~properties.strategies.matching`: ``matching_problems`` and its
  tied/disjoint/overlapping variants, ``anchors_1a4``, ``label_batches`` with padding
  anywhere, ``pad_labels``;
- :mod:`~properties.strategies.nms`: ``tied_scores``, ``nms_problems``, ``nms_chains``,
  ``boxes_at_threshold``, ``nonpositive_boxes``, ``touching_boxes``;
- :mod:`~properties.strategies.detection`: ``class_probs``, ``detection_offsets``,
  ``detection_problems``;
- :mod:`~properties.strategies.detector_ops`: the detector operations of CONTRACT.md §3.1 to
  §3.4: ``format_boxes``, ``batched_nms_problems``, ``padded_batches``, ``coder_problems``,
  ``quality_matrices``, ``matcher_thresholds``;
- :mod:`~properties.strategies.detector_geometry`: those of §3.5 and §3.6: ``loss_pairs``,
  ``clip_problems``, ``min_sizes``.
"""

from . import detection, detector_geometry, detector_ops, geometry, lattice, matching, nms
from .detection import *  # noqa: F403
from .detector_geometry import *  # noqa: F403
from .detector_ops import *  # noqa: F403
from .geometry import *  # noqa: F403
from .lattice import *  # noqa: F403
from .matching import *  # noqa: F403
from .nms import *  # noqa: F403

__all__ = [
    *lattice.__all__,
    *geometry.__all__,
    *matching.__all__,
    *nms.__all__,
    *detection.__all__,
    *detector_ops.__all__,
    *detector_geometry.__all__,
]
