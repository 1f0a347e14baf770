"""Properties of ``multibox_target(anchors (1, A, 4), labels (B, G, 5))``.

The contract (CONTRACT.md §2.7): per image, the anchors are assigned
(``assign_anchor_to_bbox`` at threshold 0.5) over the non-padding label rows only (a row with
class < 0 is padding and ignored); the result is

- ``offsets`` ``(B, 4A)``: ``offset_boxes(anchor, assigned box)`` on the 4 entries of every
  assigned anchor, exactly 0 elsewhere (the sign of zero is free);
- ``mask`` ``(B, 4A)`` float: 1 on the 4 entries of every assigned anchor, else 0;
- ``class_labels`` ``(B, A)`` integer: the assigned row's class + 1, or 0 (background).

Inputs are on the lattice (coordinates multiples of 1/64, anchors of positive extent), where
the assignment is exact: class labels and mask must match the reference exactly, offsets
within ``TOLERANCES``. Padding rows sit anywhere, hold -1, 0, a real row's box or (in the
padding tests) NaN, infinite or inverted coordinates, which must never be read.

Shapes: ``B`` in {1, 3}, ``A`` in {3, 8}, ``G`` in {0, 2, 5} and also 8 in the padding test,
all from ``SIZE_BUCKETS`` (at most 2 x 2 x 4 = 16 shapes over the whole file, 12 of them with
``G > 0``, plus one for each explicit example of another shape; a jitted implementation
compiles once for each). Few shapes, but the number of real rows per image still varies from
0 to ``G``: padding rows fill the rest.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import reference

from .asserts import Call, assert_close, assert_equal, check, tolerance
from .laws import assign_from_iou, float32_iou
from .strategies import anchors_1a4, label_batches, pad_labels

F32 = np.float32
# Shape buckets of the whole file (see the module docstring): a new shape costs a jitted
# implementation about a dozen compiles (the jitted core and the eager argument checks). The
# number of real rows still varies freely: padding rows fill the rest of G.
BATCHES = st.sampled_from((1, 3))
ANCHOR_SIZES = st.sampled_from((3, 8))
ROW_SIZES = st.sampled_from((0, 2, 5))
PADDED_ROW_SIZES = (2, 5, 8)
PAD = [-1.0, -1.0, -1.0, -1.0, -1.0]
OUTPUTS = ("offsets", "mask", "class_labels")


def target_call(impl, anchors: np.ndarray, labels: np.ndarray) -> Call:
    return Call(impl, "multibox_target", anchors=anchors, labels=labels)


def lab(rows) -> np.ndarray:
    """``(B, G, 5)`` float32 labels from nested lists."""
    return np.asarray(rows, dtype=F32).reshape(len(rows), -1, 5)


def anc(rows) -> np.ndarray:
    """``(1, A, 4)`` float32 anchors from a list of boxes."""
    return np.asarray(rows, dtype=F32).reshape(1, -1, 4)


def check_shapes(got, batch: int, num_anchors: int, call: Call) -> None:
    """Three outputs of shapes ``(B, 4A), (B, 4A), (B, A)``: float, float, integer."""
    check(
        isinstance(got, tuple) and len(got) == 3,
        f"expected a tuple (offsets, mask, class_labels), got {type(got).__name__}",
        call,
    )
    offsets, mask, classes = got
    for what, value, shape in (
        ("offsets", offsets, (batch, 4 * num_anchors)),
        ("mask", mask, (batch, 4 * num_anchors)),
        ("class_labels", classes, (batch, num_anchors)),
    ):
        check(value.shape == shape, f"{what}: shape {value.shape}, expected {shape}", call)
    check(offsets.dtype.kind == "f", f"offsets: dtype {offsets.dtype}, expected float", call)
    check(mask.dtype.kind == "f", f"mask: dtype {mask.dtype}, expected float", call)
    check(
        np.issubdtype(classes.dtype, np.integer),
        f"class_labels: dtype {classes.dtype}, expected an integer dtype",
        call,
    )


def image_assignments(anchors: np.ndarray, labels: np.ndarray, conventions) -> list[list]:
    """Per image, the assignments a correct implementation may make (over the real rows).

    The reference's (under the declared conventions), and, where they differ, the contract
    applied to the float32 IoU (two different lattice IoUs with large unions can round to the
    same float32, a tie that a float32 implementation must break by index; see
    ``test_assign``).
    """
    out = []
    for image in labels:
        rows = image[image[:, 0] >= 0]
        exact = conventions.reference.assign_anchor_to_bbox(rows[:, 1:], anchors[0], None, 0.5)
        rounded = assign_from_iou(float32_iou(rows[:, 1:], anchors[0], conventions), 0.5)
        out.append([exact] if np.array_equal(exact, rounded) else [exact, rounded])
    return out


def targets_from_assignment(anchors: np.ndarray, rows: np.ndarray, assigned: np.ndarray):
    """One image's ``(offsets (4A,), mask (4A,), class_labels (A,))`` from an assignment."""
    offsets = np.zeros((len(assigned), 4))
    classes = np.zeros(len(assigned), dtype=np.int64)
    hit = np.flatnonzero(assigned >= 0)
    if len(hit):
        matched = rows[assigned[hit]]
        offsets[hit] = reference.offset_boxes(anchors[0][hit], matched[:, 1:])
        classes[hit] = matched[:, 0].astype(np.int64) + 1
    mask = np.repeat((assigned >= 0).astype(np.float64), 4)
    return offsets.reshape(-1), mask, classes


def assert_matches_reference(
    got, anchors: np.ndarray, labels: np.ndarray, call: Call, conventions
) -> None:
    """Class labels and mask exactly as the reference's, offsets within ``TOLERANCES``."""
    __tracebackhide__ = True
    offsets, mask, classes = got
    exp_offsets, exp_mask, exp_classes = conventions.reference.multibox_target(anchors, labels)
    tol = tolerance(offsets.dtype)
    for b, choices in enumerate(image_assignments(anchors, labels, conventions)):
        if len(choices) == 1:
            continue
        rows = labels[b][labels[b][:, 0] >= 0]
        alt = targets_from_assignment(anchors, rows, choices[1])
        if (
            np.array_equal(classes[b], alt[2])
            and np.array_equal(mask[b], alt[1])
            and np.allclose(offsets[b], alt[0], rtol=tol["rtol"], atol=tol["atol"])
        ):
            exp_offsets[b], exp_mask[b], exp_classes[b] = alt  # a float32 tie, broken right
    assert_equal(classes, exp_classes, call, what="class_labels")
    assert_equal(mask, exp_mask, call, what="mask")
    assert_close(offsets, exp_offsets, call, what="offsets")


# --- equivalence with the reference ------------------------------------------------------------


@given(
    anchors=anchors_1a4(ANCHOR_SIZES),
    labels=label_batches(BATCHES, ROW_SIZES),
)
@example(  # the chapter's dog/cat example, with padding before, between and after the objects
    anchors=anc([[0, 0.1, 0.2, 0.3], [0.15, 0.2, 0.4, 0.4], [0.63, 0.05, 0.88, 0.98],
                 [0.66, 0.45, 0.8, 0.8], [0.57, 0.3, 0.92, 0.9]]),
    labels=lab([[PAD, [0, 0.1, 0.08, 0.52, 0.92], PAD, [1, 0.55, 0.2, 0.9, 0.88], PAD]]),
)  # fmt: skip
@example(  # anchor 0's IoUs with the two rows differ by 2e-8: equal in float32 (see test_assign)
    anchors=anc([[0.46875, 0.109375, 1.25, 1.59375], [1.5, 1.5, 2, 2], [0, 1.75, 0.25, 2]]),
    labels=lab([[[0, 0.453125, 0.15625, 1.8125, 1.109375],
                 [1, 0.640625, 0.21875, 1.796875, 1.578125]]]),
)  # fmt: skip
@example(anchors=anc([[0, 0, 1, 1]] * 3), labels=np.zeros((3, 0, 5), F32))  # G = 0
@example(anchors=np.zeros((1, 0, 4), F32), labels=lab([[[0, 0, 0, 1, 1], PAD]]))  # A = 0
def test_multibox_target_matches_reference(impl, anchors, labels, conventions):
    """Class labels and mask equal the reference's exactly; offsets within ``TOLERANCES``."""
    call = target_call(impl, anchors, labels)
    got = call()
    check_shapes(got, labels.shape[0], anchors.shape[1], call)
    assert_matches_reference(got, anchors, labels, call, conventions)


# --- laws ----------------------------------------------------------------------------------------


@given(
    anchors=anchors_1a4(ANCHOR_SIZES),
    labels=label_batches(BATCHES, ROW_SIZES),
)
@example(  # class 0 objects: their anchors are labelled 1, and masked
    anchors=anc([[0, 0, 1, 1], [1, 1, 2, 2], [0, 1, 1, 2]]),
    labels=lab([[[0, 0, 0, 1, 1], [0, 1, 1, 2, 2]]]),
)
def test_multibox_target_mask_marks_assigned_anchors(impl, anchors, labels):
    """The mask is 1 on exactly the 4 entries of each assigned anchor (class label > 0) and 0
    elsewhere: ``mask.reshape(B, A, 4) == (class_labels > 0)[..., None]``.

    Also: class labels are never negative, and the greedy rounds assign at least
    ``min(A, R)`` anchors in an image with ``R`` real rows.
    """
    call = target_call(impl, anchors, labels)
    got = call()
    batch, num_anchors = labels.shape[0], anchors.shape[1]
    check_shapes(got, batch, num_anchors, call)
    _, mask, classes = got
    check(np.all(classes >= 0), f"negative class labels: {classes.tolist()}", call)
    expected = np.repeat((classes > 0).astype(mask.dtype), 4, axis=1)
    assert_equal(mask, expected, call, what="mask (must be 1 exactly where class_labels > 0)")
    for b in range(batch):
        real = int(np.sum(labels[b, :, 0] >= 0))
        assigned = int(np.sum(classes[b] > 0))
        check(
            assigned >= min(num_anchors, real),
            f"image {b}: {real} real rows and {num_anchors} anchors, but only {assigned} anchors "
            f"are assigned (min(A, R) greedy rounds assign at least {min(num_anchors, real)}); "
            f"class_labels {classes[b].tolist()}",
            call,
        )


@given(
    anchors=anchors_1a4(ANCHOR_SIZES),
    labels=label_batches(BATCHES, ROW_SIZES),
)
def test_multibox_target_offsets_zero_where_unmasked(impl, anchors, labels):
    """Offsets are exactly 0 (either sign) wherever the mask is 0, and finite everywhere."""
    call = target_call(impl, anchors, labels)
    got = call()
    check_shapes(got, labels.shape[0], anchors.shape[1], call)
    offsets, mask, _ = got
    assert_equal(
        np.where(mask == 0, offsets, 0), np.zeros(offsets.shape), call,
        what="offsets where the mask is 0 (must be exactly 0)",
    )  # fmt: skip
    check(
        np.all(np.isfinite(offsets)),
        f"non-finite offsets at {np.argwhere(~np.isfinite(offsets)).tolist()[:5]}",
        call,
    )


@given(
    anchors=anchors_1a4(ANCHOR_SIZES),
    labels=label_batches(BATCHES, ROW_SIZES),
)
@example(  # classes 0 and 2: labels 1 and 3 (0 is background)
    anchors=anc([[0, 0, 1, 1], [1, 1, 2, 2], [0, 1, 1, 2]]),
    labels=lab([[[2, 1, 1, 2, 2], PAD, [0, 0, 0, 1, 1], PAD, PAD]]),
)
def test_multibox_target_class_labels_are_class_plus_one(impl, anchors, labels, conventions):
    """``class_labels[b, a]`` is the class of the row assigned to anchor ``a`` plus 1, or 0.

    The assignment is the contract's over the image's real rows (exact on the lattice).
    """
    call = target_call(impl, anchors, labels)
    got = call()
    check_shapes(got, labels.shape[0], anchors.shape[1], call)
    classes = got[2]
    for b, choices in enumerate(image_assignments(anchors, labels, conventions)):
        rows = labels[b][labels[b][:, 0] >= 0]
        wanted = [targets_from_assignment(anchors, rows, assigned)[2] for assigned in choices]
        if any(np.array_equal(classes[b], w) for w in wanted):
            continue
        assert_equal(
            classes[b], wanted[0], call,
            what=f"class_labels of image {b} (assigned row's class + 1; assignment "
            f"{choices[0].tolist()}, row classes {rows[:, 0].tolist()})",
        )  # fmt: skip


@given(
    anchors=anchors_1a4(ANCHOR_SIZES),
    labels=label_batches(st.just(3), ROW_SIZES),
)
def test_multibox_target_batch_equals_per_image(impl, anchors, labels):
    """Each image of a batch gets what it gets alone in a batch of 1."""
    call = target_call(impl, anchors, labels)
    got = call()
    check_shapes(got, labels.shape[0], anchors.shape[1], call)
    for b in range(labels.shape[0]):
        alone_call = target_call(impl, anchors, labels[b : b + 1])
        alone = alone_call()
        for i in (2, 1, 0):  # class labels, mask, then offsets: decisions first
            compare = assert_close if i == 0 else assert_equal
            compare(
                got[i][b], alone[i][0], call,
                what=f"{OUTPUTS[i]} of image {b} in the batch vs the image alone in a batch of 1",
            )  # fmt: skip


@st.composite
def _padded_batches(draw):
    """``(unpadded (B, R, 5), padded (B, G, 5))``, ``R < G`` both from the file's buckets."""
    rows = draw(ROW_SIZES)
    total = draw(st.sampled_from([g for g in PADDED_ROW_SIZES if g > rows]))
    unpadded = draw(label_batches(BATCHES, rows, padding=False))
    padded = draw(pad_labels(unpadded, total - rows, garbage=True))
    return unpadded, padded


@given(anchors=anchors_1a4(ANCHOR_SIZES), batches=_padded_batches())
@example(  # d2l: a padding row (a zero-area box at -1) wins the third greedy round
    anchors=anc([[0, 0, 1, 1], [1, 1, 2, 2], [0, 1, 1, 2]]),
    batches=(
        lab([[[0, 0, 0, 1, 1], [1, 1, 1, 2, 2]]]),
        lab([[PAD, [0, 0, 0, 1, 1], PAD, [1, 1, 1, 2, 2], PAD]]),
    ),
)
def test_multibox_target_ignores_padding(impl, anchors, batches, conventions):
    """Padding rows (class < 0), anywhere, with any coordinates (also NaN, infinite or
    inverted), change nothing: the result equals that of the labels without them."""
    unpadded, padded = batches
    call = target_call(impl, anchors, padded)
    got = call()
    check_shapes(got, padded.shape[0], anchors.shape[1], call)
    base = target_call(impl, anchors, unpadded)()
    for i in (2, 1, 0):  # class labels, mask, then offsets: decisions first
        compare = assert_close if i == 0 else assert_equal
        compare(got[i], base[i], call, what=f"{OUTPUTS[i]} with padding rows vs without them")
    assert_matches_reference(got, anchors, unpadded, call, conventions)


@given(
    anchors=anchors_1a4(ANCHOR_SIZES),
    labels=label_batches(BATCHES, ROW_SIZES, padding=False),
    data=st.data(),
)
@example(  # keras-cv #845: an all-padding batch gave NaN
    anchors=anc([[0, 0, 1, 1], [0.5, 0.5, 1, 1], [1, 1, 2, 2]]),
    labels=lab([[PAD, PAD], [[0, 0, 0, 1, 1], PAD], [PAD, [1, 0, 0, 1, 1]]]),
    data=None,
)
def test_multibox_target_all_padding_images(impl, anchors, labels, data, conventions):
    """An image whose rows are all padding (or that has no rows) is all background: class 0,
    mask 0, offsets exactly 0, no NaN; the other images of the batch are unaffected."""
    if data is not None:  # turn a drawn subset of the images into all padding
        empty = data.draw(
            st.lists(st.booleans(), min_size=len(labels), max_size=len(labels)), label="empty"
        )
        labels = labels.copy()
        for b in np.flatnonzero(empty):
            no_rows = np.zeros((1, 0, 5), F32)
            labels[b] = data.draw(pad_labels(no_rows, labels.shape[1], garbage=True))[0]
    call = target_call(impl, anchors, labels)
    got = call()
    check_shapes(got, labels.shape[0], anchors.shape[1], call)
    offsets, mask, classes = got
    check(not np.isnan(offsets).any(), f"NaN offsets: {offsets.tolist()}", call)
    check(not np.isnan(mask).any(), f"NaN mask: {mask.tolist()}", call)
    for b in range(labels.shape[0]):
        if np.any(labels[b, :, 0] >= 0):
            continue
        assert_equal(classes[b], np.zeros(anchors.shape[1]), call, what=f"class_labels of {b}")
        assert_equal(mask[b], np.zeros(4 * anchors.shape[1]), call, what=f"mask of image {b}")
        assert_equal(offsets[b], np.zeros(4 * anchors.shape[1]), call, what=f"offsets of {b}")
    assert_matches_reference(got, anchors, labels, call, conventions)
