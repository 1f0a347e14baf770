"""The benchmark plot (PNG) of a run (:mod:`benchmarks.report`): median time per call against
size, one panel per operation."""

from __future__ import annotations

from pathlib import Path

from . import workloads as wl
from .runs import Record, Run, fmt_time

X_LABELS = {
    "box_iou": "pairs N x M",
    "nms": "boxes",
    "nms_stream": "images",
    "multibox_prior": "anchors",
    "multibox_target": "B x A x G",
    "multibox_detection": "B x A",
    **dict.fromkeys(wl.LOSS_OPS, "pairs"),
}
COLORS = {
    wl.JAXIMPL: "tab:blue",
    wl.REFERENCE: "tab:green",
    wl.TORCHVISION: "tab:orange",
    wl.TORCHVISION_CUDA: "tab:red",
    wl.NAIVE: "tab:purple",
    wl.D2L_JIT: "tab:brown",
    wl.WRITE_NP: "0.35",
    wl.WRITE_JNP: "0.55",
    wl.WRITE_REUSED: "0.75",
    wl.TARGET_LIMIT: "0.45",
}

# Class-aware NMS (CONTRACT.md §3.2, issue 11).
X_LABELS["batched_nms"] = "boxes"


def _bars(ax, op: str, recs: list[Record]) -> None:
    recs = sorted(recs, key=lambda r: (wl.ALL_CONTENDERS.index(r.contender), r.series))
    several = len({r.series for r in recs}) > 1
    names = [r.contender + (f" ({r.series})" if several else "") for r in recs]
    colors = [COLORS[r.contender] for r in recs]
    ax.barh(names, [r.median for r in recs], color=colors, log=True)
    for i, r in enumerate(recs):
        ax.text(r.median, i, " " + fmt_time(r.median), va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_title(f"{op} ({recs[0].name})")
    ax.set_xlabel("median time per call (s), log scale")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    lo, hi = min(r.median for r in recs), max(r.median for r in recs)
    ax.set_xlim(lo / 3, hi * 8)


def plot(run: Run, path: str | Path, title: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ops = list(X_LABELS)
    fig, axes = plt.subplots(4, 3, figsize=(15, 18))
    styles = ["-", "--", ":"]
    markers = ["o", "s", "^"]
    for ax, op in zip(axes.flat, ops, strict=False):
        recs = [r for r in run.records if r.op == op]
        series = list(dict.fromkeys(r.series for r in recs))
        if len({r.size for r in recs}) == 1:  # one size: a bar per contender reads better
            _bars(ax, op, recs)
            continue
        for c in wl.ALL_CONTENDERS:
            for si, s in enumerate(series):
                pts = sorted((r.size, r.median) for r in recs if r.contender == c and r.series == s)
                if not pts:
                    continue
                xs, ys = zip(*pts, strict=True)
                label = c + (f" ({s})" if len(series) > 1 else "")
                if c in wl.PROBES or c in wl.LIMITS:
                    label = f"{'write bound' if c in wl.PROBES else 'limit'}: {label}"
                ax.plot(
                    xs,
                    ys,
                    linestyle=styles[si % 3],
                    marker=markers[si % 3],
                    color=COLORS[c],
                    linewidth=0.8 if c not in wl.CONTENDERS else 1.5,
                    markersize=3 if c not in wl.CONTENDERS else 5,
                    label=label,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(op)
        ax.set_xlabel(X_LABELS[op])
        ax.set_ylabel("median time per call (s)")
        ax.grid(True, which="both", alpha=0.3)
        if recs:
            ax.legend(fontsize=6 if op == "box_iou" else 7)
    for ax in axes.flat[len(ops) :]:
        ax.axis("off")
    ax = axes.flat[-1]
    m = run.meta.get("machine", {})
    ax.text(
        0.0,
        0.95,
        "\n".join(
            [
                title or "jaximpl vs alternatives",
                f"{run.datetime[:19]}",
                f"{m.get('cpu_model', '?')}",
                f"{m.get('logical_cpus', '?')} logical CPUs, JAX {m.get('jax', '?')} "
                f"({m.get('jax_backend', '?')})",
                f"torch {m.get('torch', '?')}, mode {run.meta.get('mode', '?')}",
                "",
                "Lower is faster. Compile times are",
                "not included (see the table).",
            ]
        ),
        va="top",
        fontsize=10,
        family="monospace",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
