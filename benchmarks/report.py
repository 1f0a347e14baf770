"""Turn a pytest-benchmark JSON run into the ratio table (Markdown) and the plot (PNG).

A ratio is a contender's median time divided by ``jaximpl``'s median on the same
workload in the same run: above 1, ``jaximpl`` is faster. Absolute times are shown
beside the ratios for reading, but only the ratios are compared across machines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import workloads as wl

# The speed targets of the jaximpl issue (#3) and of the detector operations (issue 11):
# (workload, contender, minimum ratio or None when the issue sets no number, wording).
TARGETS = [
    ("nms/uniform-5000", wl.TORCHVISION, 2.0, "NMS >= 2x torchvision, 5,000 uniform boxes"),
    ("nms/uniform-20000", wl.TORCHVISION, 2.0, "NMS >= 2x torchvision, 20,000 uniform boxes"),
    ("nms/clustered-5000", wl.TORCHVISION, 1.0, "NMS no slower than torchvision, 5,000 clustered"),
    ("nms/clustered-1000", wl.TORCHVISION, 1.0, "NMS >= 1x torchvision, 1,000 clustered"),
    (
        "multibox_detection/32x5120x21",
        wl.NAIVE,
        20.0,
        "multibox_detection >= 20x the chapter's loop + host NMS",
    ),
    (
        "multibox_detection/32x5120x21",
        wl.TORCHVISION,
        2.0,
        "multibox_detection >= 2x decode + torchvision.ops.nms per image (issue 13)",
    ),
    ("multibox_target/32x5120x4", wl.NAIVE, 2.0, "multibox_target >= 2x fori_loop port, 32x5120x4"),
    (
        "multibox_target/1x2042040x10",
        wl.NAIVE,
        2.0,
        "multibox_target >= 2x fori_loop port, 2,042,040 anchors x 10",
    ),
    (
        "multibox_target/32x5120x4",
        wl.D2L_JIT,
        5.0,
        "multibox_target >= 5x the chapter's code under one jax.jit, 32x5120x4 (issue 13)",
    ),
    (
        "multibox_target/1x2042040x10",
        wl.D2L_JIT,
        3.0,
        "multibox_target >= 3x the chapter's code under one jax.jit, 2,042,040 x 10 (issue 13)",
    ),
    (
        "nms_stream/100x1000-20000-cold",
        wl.TORCHVISION,
        1.0,
        "NMS on 100 images of 1,000 to 20,000 boxes, end to end with compiles >= 1x torchvision",
    ),
    (
        "nms_stream/100x1000-20000",
        wl.TORCHVISION,
        5.0,
        "NMS on 100 images of 1,000 to 20,000 boxes, warm >= 5x torchvision",
    ),
    *[
        (
            f"{op}/{wl.LOSS_PAIRS}",
            wl.TORCHVISION,
            2.0,
            f"{op} + gradient >= 2x torchvision, 100,000",
        )
        for op in wl.LOSS_OPS
    ],
    (
        "box_iou/5000x5000",
        wl.WRITE_JNP,
        None,
        "box_iou 5000x5000 close to writing its output (fraction of a jitted jnp.zeros)",
    ),
    (
        "box_iou/2042040x10",
        wl.WRITE_JNP,
        None,
        "box_iou 2,042,040x10 close to writing its output (fraction of a jitted jnp.zeros)",
    ),
]

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
}


@dataclass
class Record:
    workload: str
    op: str
    name: str
    size: int
    series: str
    contender: str
    median: float
    iqr: float
    rounds: int
    extra: dict


@dataclass
class Run:
    records: list[Record]
    skipped: list[dict]
    meta: dict
    datetime: str

    def get(self, workload: str, contender: str) -> Record | None:
        for r in self.records:
            if r.workload == workload and r.contender == contender:
                return r
        return None

    def ratio(self, workload: str, contender: str) -> float | None:
        base, other = self.get(workload, wl.JAXIMPL), self.get(workload, contender)
        if base is None or other is None or base.median <= 0:
            return None
        return other.median / base.median

    def skip_reason(self, workload: str, contender: str) -> str | None:
        for s in self.skipped:
            if f"[{workload}-{contender}]" in s["nodeid"]:
                return s["reason"].split(": ", 1)[-1]
        return None


def load(path: str | Path) -> Run:
    data = json.loads(Path(path).read_text())
    records = []
    for b in data.get("benchmarks", []):
        e = b.get("extra_info", {})
        if "workload" not in e:
            continue
        records.append(
            Record(
                workload=e["workload"],
                op=e["op"],
                name=e["name"],
                size=int(e["size"]),
                series=e.get("series", ""),
                contender=e["contender"],
                median=b["stats"]["median"],
                iqr=b["stats"]["iqr"],
                rounds=b["stats"]["rounds"],
                extra=e,
            )
        )
    extra = data.get("anchor_bench", {})
    return Run(records, extra.get("skipped", []), extra, data.get("datetime", "?"))


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.3g}x" if r < 100 else f"{r:.0f}x"


def _machine_lines(run: Run) -> list[str]:
    m = run.meta.get("machine", {})
    lines = [
        f"- Date: {run.datetime}",
        f"- Machine: {m.get('cpu_model', '?')}, {m.get('logical_cpus', '?')} logical CPUs, "
        f"{m.get('mem_total_gib', '?')} GiB RAM, {m.get('platform', '?')}; load average at "
        f"start {tuple(round(x, 2) for x in m.get('loadavg') or ())}",
        f"- Software: Python {m.get('python', '?')}, JAX {m.get('jax', '?')} "
        f"(backend {m.get('jax_backend', '?')}: {', '.join(m.get('jax_devices', []))}), "
        f"NumPy {m.get('numpy', '?')}, torch {m.get('torch', '?')} "
        f"({m.get('torch_threads', '?')} threads, OMP_WAIT_POLICY={m.get('omp_wait_policy')}), "
        f"torchvision {m.get('torchvision', '?')}"
        + (f", CUDA device {m['cuda_device']}" if m.get("cuda_device") else ", no CUDA device"),
        f"- Mode: {run.meta.get('mode', '?')}"
        + (f" (floors file {run.meta['floors']})" if run.meta.get("floors") else ""),
    ]
    if m.get("jaximpl_module", "jaximpl") != "jaximpl":
        lines.append(f"- **jaximpl replaced by module `{m['jaximpl_module']}` (BENCH_JAXIMPL)**")
    return lines


def _cell(run: Run, workload: str, contender: str, op: str) -> str:
    r = run.get(workload, contender)
    if r is not None:
        ratio = run.ratio(workload, contender)
        return f"**{fmt_ratio(ratio)}** ({fmt_time(r.median)})" if ratio else fmt_time(r.median)
    reason = run.skip_reason(workload, contender)
    if reason is None:
        return "not run"
    if "no such operation" in reason or "has no " + op in reason:
        return "n/a"
    return "skipped†"


def strongest(run: Run, workload: str) -> tuple[str, float] | None:
    """The fastest baseline measured on ``workload`` (``workloads.BASELINES``) and its ratio:
    the speed-up the README quotes."""
    ratios = [(c, run.ratio(workload, c)) for c in wl.BASELINES]
    ratios = [(c, r) for c, r in ratios if r is not None]
    return min(ratios, key=lambda cr: cr[1]) if ratios else None


def _strongest_cell(run: Run, workload: str) -> str:
    best = strongest(run, workload)
    return "-" if best is None else f"**{fmt_ratio(best[1])}** {best[0]}"


def markdown(run: Run, title: str = "Benchmarks: jaximpl against the alternatives") -> str:
    workloads = list(dict.fromkeys(r.workload for r in run.records))
    workloads += [
        w.id
        for w in wl.WORKLOADS
        if w.id not in workloads and any(f"[{w.id}-" in s["nodeid"] for s in run.skipped)
    ]
    order = {w.id: i for i, w in enumerate(wl.WORKLOADS)}
    workloads.sort(key=lambda w: order.get(w, 1e9))
    others = [c for c in wl.CONTENDERS if c != wl.JAXIMPL]
    present = {r.contender for r in run.records}
    shown = [c for c in others if c in present]
    hidden = [c for c in others if c not in present]

    out = [f"# {title}", ""]
    out += _machine_lines(run)
    out += [
        "",
        "Each cell: **ratio** = the contender's median time / `jaximpl`'s median time on the "
        "same workload in the same run (above 1: `jaximpl` is faster), then the contender's "
        "median. Compile times are separate and never part of a median (`jaximpl`: "
        "`jax.jit(f).lower(...).compile()`; naive: first call minus second call), except "
        "on the `-cold` rows, whose one timed pass includes every compile. "
        "**vs strongest baseline**: the ratio against the fastest baseline of the row "
        "(the speed-up to quote).",
        "",
    ]
    head = [
        "workload",
        "jaximpl median",
        "jaximpl compile",
        "vs strongest baseline",
        *shown,
        "naive compile",
    ]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for w in workloads:
        op = w.split("/")[0]
        base = run.get(w, wl.JAXIMPL)
        naive = run.get(w, wl.NAIVE)
        row = [
            f"`{w}`",
            fmt_time(base.median) if base else _cell(run, w, wl.JAXIMPL, op),
            f"{base.extra['compile_s']:.2f} s" if base and base.extra.get("compile_s") else "-",
            _strongest_cell(run, w),
            *[_cell(run, w, c, op) for c in shown],
            f"{naive.extra['compile_s']:.2f} s"
            if naive and naive.extra.get("compile_s") is not None
            else "-",
        ]
        out.append("| " + " | ".join(row) + " |")
    if hidden:
        reasons = {run.skip_reason(w, c) for c in hidden for w in workloads} - {None}
        out += ["", f"Not in this run: {', '.join(hidden)} ({'; '.join(sorted(reasons)) or '-'})."]

    notes = []
    for s in run.skipped:
        reason = s["reason"]
        if "no such operation" in reason or "no CUDA" in reason:
            continue
        if any(c in hidden and f"-{c}]" in s["nodeid"] for c in hidden):
            continue
        notes.append(f"- † {reason}")
    if notes:
        out += ["", "Skipped:", *notes]

    kept = {}
    for r in run.records:
        if "kept" in r.extra:
            kept.setdefault(r.workload, r.extra["kept"])
    if kept:
        out += ["", "NMS boxes kept: " + ", ".join(f"`{w}` {k}" for w, k in kept.items()) + "."]

    out += [
        "",
        "## Targets of the jaximpl issue",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for w, c, goal, text in TARGETS:
        r = run.ratio(w, c)
        if goal is None:
            met = "no number set (see the write bound below)"
        else:
            met = "-" if r is None else ("yes" if r >= goal else f"**no** ({r / goal:.0%} of it)")
        out.append(f"| {text} | {fmt_ratio(r)} | {met} |")

    out += _bandwidth_lines(run, workloads)

    out += [
        "",
        "## Memory",
        "",
        "Peak resident set added by one call (VmHWM reset through `/proc/self/clear_refs`, "
        "minus the resident set before the call; MiB). Device peaks appear where JAX or "
        "torch report them (GPU).",
        "",
    ]
    mem_contenders = [wl.JAXIMPL, *shown]
    out.append("| workload | " + " | ".join(mem_contenders) + " |")
    out.append("|" + "---|" * (len(mem_contenders) + 1))
    for w in workloads:
        cells = []
        for c in mem_contenders:
            r = run.get(w, c)
            if r is None:
                cells.append("-")
                continue
            cell = f"{r.extra.get('peak_rss_delta_mib', r.extra.get('peak_rss_mib', '?'))}"
            if r.extra.get("device_peak_delta_mib") is not None:
                cell += f" (device {r.extra['device_peak_delta_mib']})"
            cells.append(cell)
        out.append(f"| `{w}` | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _gbps(r: Record | None, nbytes: int) -> str:
    return "-" if r is None or r.median <= 0 else f"{nbytes / r.median / 1e9:.1f}"


def _bandwidth_lines(run: Run, workloads: list[str]) -> list[str]:
    """box_iou's output write rate against plain writes of the same (N, M) float32 array."""
    rows = []
    for w in workloads:
        base = run.get(w, wl.JAXIMPL)
        if base is None or base.op != "box_iou":
            continue
        nbytes = base.size * 4
        cells = [f"`{w}`", f"{nbytes / 2**20:.1f}", _gbps(base, nbytes)]
        for c in wl.PROBES:
            r, ratio = run.get(w, c), run.ratio(w, c)
            cells.append(
                "-" if r is None else f"{_gbps(r, nbytes)} (jaximpl at {fmt_ratio(ratio)})"
            )
        rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        "## box_iou against the write bound",
        "",
        "Achieved rate of writing the `(N, M)` float32 output (output bytes / median time, "
        "GB/s), and the same for plain writes of an array of that shape: "
        f"`{wl.WRITE_NP}` (`np.empty(...).fill(0)`, a fresh array each call), "
        f"`{wl.WRITE_JNP}` (a jitted `jnp.zeros`, a fresh XLA output buffer each call, as "
        f"`box_iou` gets) and `{wl.WRITE_REUSED}` (`fill(0)` on one array allocated once: "
        "no page faults, the memory's write bandwidth). In parentheses, probe time / "
        "`jaximpl` time: the fraction of that bound `jaximpl` reaches.",
        "",
        "| workload | output MiB | jaximpl GB/s | " + " | ".join(wl.PROBES) + " |",
        "|" + "---|" * (3 + len(wl.PROBES)),
        *rows,
    ]


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
                if c in wl.PROBES:
                    label = f"write bound: {label}"
                ax.plot(
                    xs,
                    ys,
                    linestyle=styles[si % 3],
                    marker=markers[si % 3],
                    color=COLORS[c],
                    linewidth=0.8 if c in wl.PROBES else 1.5,
                    markersize=3 if c in wl.PROBES else 5,
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


# --- class-aware NMS (CONTRACT.md §3.2, issue 11): the targets and the plot's axis ----------
TARGETS.extend(
    (f"batched_nms/{kind}-{n}x{wl.BATCHED_CLASSES}", wl.TORCHVISION, 2.0,
     f"batched NMS >= 2x torchvision, {n:,} {kind} boxes x {wl.BATCHED_CLASSES} classes")
    for kind in ("uniform", "clustered") for n in (5000, 20000)
)  # fmt: skip
X_LABELS["batched_nms"] = "boxes"
