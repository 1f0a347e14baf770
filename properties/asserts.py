"""Assertion helpers: every failure says what came back, what was expected, where, and how to
reproduce it, and leaves a drawing of the example.

A property wraps the call of the implementation under test in a :class:`Call`::

    call = Call(impl, "nms", boxes=b, scores=s, iou_threshold=0.5)
    got = call()                      # impl.nms(b, s, 0.5), read back with np.asarray
    assert_equal(got, reference.nms(b, s, 0.5), call, what="kept indices")

and a failure reads::

    kept indices: got [0, 2], expected [0, 1, 2]: shape (2,) vs (3,) [nms(boxes, scores,
    iou_threshold=0.5)]

followed by a snippet that reproduces the call with the (shrunk) inputs and the path of a PNG
drawing of the boxes, written to the reports folder (``--anchor-reports``, default
``anchor-reports/``). Under Hypothesis the drawing is made only for the final, shrunk example.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

# Per-dtype tolerances of a result against the float64 reference (JAX's test utilities do the
# same): a few ulps of the magnitudes in play (coordinates up to ~4, offsets up to ~50).
TOLERANCES: dict[np.dtype, dict[str, float]] = {
    np.dtype(np.float16): dict(rtol=2e-3, atol=2e-3),
    np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12),
}

# Set by the plugin from --anchor-reports; None disables drawings.
REPORTS_DIR: Path | None = Path("anchor-reports")
# The implementation spec given to --impl, for the repro snippet.
IMPL_SPEC: str = "jaximpl"


class Call:
    """A call of an implementation, kept for messages, repro snippets and drawings.

    ``Call(impl, "nms", boxes=b, scores=s, iou_threshold=0.5)``: the arguments are passed
    positionally in the order given; their keywords only name them in messages. ``impl`` is the
    ``impl`` fixture, a module, or anything with the function as an attribute.
    """

    def __init__(self, impl: Any, name: str, /, **args: Any):
        self.impl = impl
        self.name = name
        self.args = args

    def __call__(self) -> Any:
        return to_numpy(getattr(self.impl, self.name)(*self.args.values()))

    def __str__(self) -> str:
        parts = []
        for key, value in self.args.items():
            if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)) and len(value) > 4:
                parts.append(key)
            else:
                parts.append(f"{key}={value!r}")
        return f"{self.name}({', '.join(parts)})"

    def repro(self) -> str:
        """A snippet that reproduces the call with these inputs.

        The implementation writes it when it can (the plugin's ``Implementation``: the boxes in
        its declared format; for an adapter, a call of the library itself); otherwise the
        snippet loads ``IMPL_SPEC``.
        """
        writer = getattr(self.impl, "repro", None)
        if callable(writer):
            return writer(self.name, self.args)
        lines = ["import numpy as np", "from properties.plugin import load_implementation"]
        lines.append(f"impl = load_implementation({IMPL_SPEC!r})")
        for key, value in self.args.items():
            lines.append(f"{key} = {literal(value)}")
        lines.append(f"print(impl.{self.name}({', '.join(self.args)}))")
        return "\n".join(lines)


def to_numpy(result: Any) -> Any:
    """``np.asarray`` of a result, tuples and lists of arrays element-wise."""
    if isinstance(result, tuple):
        return tuple(np.asarray(r) for r in result)
    return np.asarray(result)


def literal(value: Any) -> str:
    """Python source that rebuilds ``value`` (arrays with their dtype, exactly)."""
    if isinstance(value, np.ndarray) and value.size == 0:  # "[]" would lose the shape
        return f"np.zeros({value.shape}, dtype=np.{value.dtype.name})"
    if isinstance(value, np.ndarray):
        body = np.array2string(
            value, separator=", ", threshold=1_000_000, max_line_width=96, floatmode="unique"
        )
        body = body.replace("nan", "np.nan").replace("inf", "np.inf")
        return f"np.array({body}, dtype=np.{value.dtype.name})"
    return repr(value)


def _show(x: np.ndarray, limit: int = 40) -> str:
    if x.ndim == 0:
        return repr(x.item())
    if x.size <= limit:
        return str(x.tolist())
    flat = x.reshape(-1)
    return f"{flat[:limit].tolist()}... ({x.size} values, shape {x.shape})"


def fail(message: str, call: Call | None, *, got: Any = None, expected: Any = None) -> None:
    """Fail the test with ``message``, the call, a repro snippet and a drawing."""
    __tracebackhide__ = True
    text = message if call is None else f"{message} [{call}]"
    if call is not None:
        text += "\n\nTo reproduce:\n" + _indent(call.repro())
        drawing = _draw_if_final(call, got, expected, message)
        if drawing is not None:
            text += f"\n\nDrawing of this example: {drawing}"
    raise AssertionError(text)


def check(condition: bool, message: str, call: Call | None) -> None:
    """Assert a law: fail with ``message`` (plus call, repro and drawing) unless ``condition``."""
    __tracebackhide__ = True
    if not bool(condition):
        fail(message, call)


def _same_shape(g: np.ndarray, e: np.ndarray, call: Call | None, what: str) -> None:
    __tracebackhide__ = True
    if g.shape != e.shape:
        fail(
            f"{what}: got {_show(g)}, expected {_show(e)}: shape {g.shape} vs {e.shape}",
            call,
            got=g,
            expected=e,
        )


def assert_equal(
    got: Any,
    expected: Any,
    call: Call | None,
    what: str = "result",
    *,
    signed_zero: bool = False,
) -> None:
    """Exact equality of shapes and values (NaN equals NaN; -0.0 equals 0.0 unless ``signed_zero``).

    Dtypes are not compared: an int32 index equals an int64 one, a float32 label 1.0 the int 1.
    """
    __tracebackhide__ = True
    g, e = np.asarray(got), np.asarray(expected)
    _same_shape(g, e, call, what)
    if g.size == 0:
        return
    if g.dtype.kind in "fc" or e.dtype.kind in "fc":
        gf, ef = g.astype(np.float64), e.astype(np.float64)
        same = (gf == ef) | (np.isnan(gf) & np.isnan(ef))
        if signed_zero:
            same &= np.signbit(gf) == np.signbit(ef)
    else:
        same = g == e
    if not np.all(same):
        where = tuple(int(i) for i in np.argwhere(~same)[0])
        fail(
            f"{what}: got {_show(g)}, expected {_show(e)}; first difference at index {where}: "
            f"{g[where]!r} vs {e[where]!r} ({int(np.sum(~same))} of {same.size} differ)",
            call,
            got=g,
            expected=e,
        )


def tolerance(dtype: Any) -> dict[str, float]:
    """The default ``rtol``/``atol`` for results of ``dtype`` (integers: exact)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        return dict(rtol=0.0, atol=0.0)
    return TOLERANCES.get(dtype, TOLERANCES[np.dtype(np.float32)])


def assert_close(
    got: Any,
    expected: Any,
    call: Call | None,
    what: str = "result",
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """``|got - expected| <= atol + rtol * |expected|`` element-wise, same shape, NaN where NaN.

    Tolerances default to :data:`TOLERANCES` for the dtype of ``got`` (at least float32's when
    the implementation received float32-rounded boxes, see :func:`_rounded_boxes`).
    """
    __tracebackhide__ = True
    g, e = np.asarray(got), np.asarray(expected)
    tol = tolerance(g.dtype)
    rtol = tol["rtol"] if rtol is None else rtol
    atol = tol["atol"] if atol is None else atol
    _same_shape(g, e, call, what)
    if g.size == 0:
        return
    gf, ef = g.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(gf - ef)
        ok = (err <= atol + rtol * np.abs(ef)) | (np.isnan(gf) & np.isnan(ef)) | (gf == ef)
    if not np.all(ok):
        where = tuple(int(i) for i in np.argwhere(~ok)[0])
        fail(
            f"{what}: got {_show(g)}, expected {_show(e)} (rtol={rtol}, atol={atol}); "
            f"worst at index {where}: {g[where]!r} vs {e[where]!r} "
            f"({int(np.sum(~ok))} of {ok.size} outside)",
            call,
            got=g,
            expected=e,
        )


def assert_within(
    got: Any, expected: Any, bound: Any, call: Call | None, what: str = "result"
) -> None:
    """Same shape, and ``|got - expected| <= bound`` element-wise (``bound`` broadcasts).

    For results whose rounding error has been derived (a bound per element, from the inputs'
    magnitudes and the unit roundoff) instead of a flat tolerance. NaN is outside every bound;
    an infinity is within only when it equals the expected value.
    """
    __tracebackhide__ = True
    g, e = np.asarray(got), np.asarray(expected, dtype=np.float64)
    _same_shape(g, e, call, what)
    if g.size == 0:
        return
    g64 = g.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(g64 - e)
        bad = ~((err <= bound) | (g64 == e))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(
            f"{what}: got {g[where]!r}, expected {e[where]!r} at index {where}, error "
            f"{err[where]:.3g} > rounding bound {np.broadcast_to(bound, e.shape)[where]:.3g} "
            f"({int(bad.sum())} of {bad.size} outside)",
            call,
            got=g,
            expected=e,
        )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# --- drawings -------------------------------------------------------------------------------


def _is_final_example() -> bool:
    """True outside Hypothesis, and for the final (shrunk) replay inside it."""
    try:
        from hypothesis.control import _current_build_context

        ctx = _current_build_context.value
    except Exception:  # pragma: no cover - private API moved
        return True
    return ctx is None or bool(getattr(ctx, "is_final", True))


def _report_path(call: Call) -> Path | None:
    if REPORTS_DIR is None:
        return None
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0] or call.name
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test.replace("::", "__").replace(".py", ""))[:150]
    return Path(REPORTS_DIR) / f"{stem}.png"


def _draw_if_final(call: Call, got: Any, expected: Any, message: str) -> Path | None:
    if not _is_final_example():
        return None
    path = _report_path(call)
    if path is None:
        return None
    try:
        draw_example(call, got, expected, message, path)
    except Exception as e:  # a drawing must never hide the real failure
        return Path(f"(no drawing: {type(e).__name__}: {e})")
    return path.resolve()


def _boxes_of(name: str, value: Any) -> np.ndarray | None:
    """Corner boxes held by an argument, as ``(K, 4)``, or None."""
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f" or value.size == 0:
        return None
    if name in ("offset_preds", "cls_probs", "data", "scores"):
        return None
    if value.shape[-1] == 4:
        return value.reshape(-1, 4).astype(np.float64)
    if value.shape[-1] == 5:  # labels (class, x1, y1, x2, y2): padding rows dropped
        rows = value.reshape(-1, 5)
        return rows[rows[:, 0] >= 0, 1:].astype(np.float64)
    return None


_INDEX_RESULTS = ("nms", "nms_padded")


def draw_example(call: Call, got: Any, expected: Any, message: str, path: Path) -> None:
    """Draw the boxes of ``call``'s arguments (and, for NMS, kept vs suppressed) to ``path``.

    Each argument holding boxes gets its own colour, every box its index; for ``nms`` the
    expected kept boxes are drawn solid, the suppressed ones dotted, each labelled with its
    score, and boxes whose decision differs between ``got`` and ``expected`` are marked.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 7), dpi=110)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
    scores = call.args.get("scores")
    kept_expected: set[int] = set()
    kept_got: set[int] = set()
    if call.name in _INDEX_RESULTS and expected is not None and got is not None:
        e, g = np.asarray(expected).reshape(-1), np.asarray(got).reshape(-1)
        kept_expected = {int(i) for i in e if i >= 0}
        kept_got = {int(i) for i in g if i >= 0}
    lo, hi = np.array([np.inf, np.inf]), np.array([-np.inf, -np.inf])
    legend = []
    for n, (name, value) in enumerate(call.args.items()):
        bxs = _boxes_of(name, value)
        if bxs is None or bxs.size == 0 or not np.all(np.isfinite(bxs)):
            continue
        colour = colours[n % len(colours)]
        legend.append(f"{name} ({colour.removeprefix('tab:')})")
        for i, (x1, y1, x2, y2) in enumerate(bxs[:200]):
            style = "-"
            width = 1.2
            text = f"{i}"
            if kept_expected or kept_got:
                style = "-" if i in kept_expected else ":"
                if (i in kept_expected) != (i in kept_got):
                    colour_i, width = "red", 2.5
                    text += " (got: kept)" if i in kept_got else " (got: suppressed)"
                else:
                    colour_i = colour
            else:
                colour_i = colour
            if isinstance(scores, np.ndarray) and scores.ndim == 1 and i < scores.size:
                text += f" s={scores[i]:.4g}"
            ax.add_patch(
                Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ls=style, lw=width, ec=colour_i)
            )
            if x2 - x1 <= 0 or y2 - y1 <= 0:  # degenerate: a line or a point, make it visible
                ax.plot([x1, x2], [y1, y2], marker="x", ms=6, color=colour_i, ls=style)
            # Stagger labels so identical boxes stay readable.
            ax.annotate(
                text,
                (x1, y1),
                xytext=(2, 2 + 8 * (i % 6)),
                textcoords="offset points",
                fontsize=7,
                color=colour_i,
            )
        lo = np.minimum(lo, bxs[:, :2].min(axis=0))
        hi = np.maximum(hi, bxs[:, 2:].max(axis=0))
    if np.all(np.isfinite(lo)):
        pad = max(0.05 * float(np.max(hi - lo)), 0.05)
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(hi[1] + pad, lo[1] - pad)  # y points down, as in images
    ax.set_aspect("equal")
    title = f"{call}\n" + "; ".join(legend)
    if kept_expected or kept_got:
        title += "\nsolid: kept (expected), dotted: suppressed, red: decision differs"
    ax.set_title(title, fontsize=8)
    fig.text(0.01, 0.01, message[:300], fontsize=6, wrap=True)
    fig.savefig(path)
    plt.close(fig)
