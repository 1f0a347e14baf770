"""Turn a pytest-benchmark JSON run into the ratio table (Markdown) and the plot (PNG).

A ratio is a contender's median time divided by ``jaximpl``'s median on the same
workload in the same run: above 1, ``jaximpl`` is faster. Absolute times are shown
beside the ratios for reading, but only the ratios are compared across machines.

The run's records are read by :mod:`benchmarks.runs`, the plot drawn by :mod:`benchmarks.plots`
and the targets listed in :mod:`benchmarks.targets`; the names are re-exported here.
"""

from __future__ import annotations

from . import workloads as wl
from .plots import COLORS, X_LABELS, plot  # noqa: F401  (re-exported)
from .runs import Record, Run, fmt_ratio, fmt_time, load  # noqa: F401  (re-exported)
from .targets import TARGETS


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


def _limit_cell(run: Run, workload: str, limit: str) -> str:
    """``jaximpl``'s time over a limit's (above 1: that far from it), and the limit's time."""
    r = run.get(workload, limit)
    ratio = run.ratio(workload, limit)
    return "-" if r is None or not ratio else f"**{fmt_ratio(1 / ratio)}** ({fmt_time(r.median)})"


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
    limits = [c for c in wl.LIMITS if c in present]

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
    if limits:
        out[-1:-1] = [
            f"**jaximpl / {', '.join(limits)}**: `jaximpl`'s median over the limit's, the "
            "batched IoU plus one pass writing outputs of the target's shapes "
            "(`workloads.TARGET_LIMIT`): how far `jaximpl` is from it (1: at the limit), a "
            "lower bound and not a baseline.",
        ]
    head = [
        "workload",
        "jaximpl median",
        "jaximpl compile",
        "vs strongest baseline",
        *shown,
        *[f"jaximpl / {c}" for c in limits],
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
            *[_limit_cell(run, w, c) for c in limits],
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
            if "memory_note" in r.extra:
                cells.append("not measured")
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
