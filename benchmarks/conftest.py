"""pytest plumbing of the benchmarks: options, timing policy, memory, skips, JSON extras.

Options (after ``pytest benchmarks``):

- ``--bench-mode=full|short``: the rounds policy (short: the gate's few rounds);
- ``--bench-floors=PATH``: run only the (workload, contender) pairs a floors file
  names, plus ``jaximpl`` on those workloads (what the gate needs);
- ``--bench-all``: also run the pairs ``workloads.py`` skips as too slow.
"""

from __future__ import annotations

import gc
import os
import platform
import tomllib
from dataclasses import dataclass
from time import perf_counter

import pytest

from . import workloads as wl

# torch's OpenMP workers spin while waiting by default; on a machine whose cores are
# shared (CI runners, this project's 2-core box) a spinning worker starves the one doing
# the work, and torch's multi-threaded ops (box_iou) took 64 ms instead of 0.6 ms. Must
# be set before torch is imported; a value set by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# On a GPU, JAX would otherwise take 75% of the device memory at start, leaving torch's
# CUDA contender short; without preallocation its peak_bytes_in_use is what was used.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


@dataclass(frozen=True)
class Policy:
    budget_s: float  # target timed seconds per (workload, contender)
    min_rounds: int
    max_rounds: int
    # A round repeats the call until it lasts this long. Besides timer resolution, this
    # averages allocator effects out of each round: a call writing a fresh 16 MB output
    # alternates between ~2 ms and ~6 ms (page faults on every other allocation), and
    # the median of single calls then jumps between the two modes from run to run.
    min_round_s: float
    # Untimed calls first, at least one and until this long: the first calls of a
    # process (or of a new output size) run ~8x slower for ~0.1 s (page faults of new
    # buffers, threads waking up); the last of them sizes the rounds.
    warmup_s: float
    # One more call after the rounds for the memory peak (measure_memory). The gate's short
    # mode checks times only: the call cost it 8 s, 4.3 s of them torchvision's NMS stream.
    memory: bool = True


POLICIES = {
    "full": Policy(budget_s=2.0, min_rounds=5, max_rounds=200, min_round_s=0.02, warmup_s=0.5),
    "short": Policy(
        budget_s=0.4, min_rounds=3, max_rounds=30, min_round_s=0.02, warmup_s=0.2, memory=False
    ),
}
MAX_WARMUP_CALLS = 200
SLOW_CALL_S = 3.0  # a call slower than this gets min(rounds, 3) rounds in any mode


def pytest_addoption(parser):
    g = parser.getgroup("anchor-benchmarks")
    g.addoption("--bench-mode", choices=sorted(POLICIES), default="full")
    g.addoption("--bench-floors", default=None, help="only the pairs a floors TOML file names")
    g.addoption("--bench-all", action="store_true", help="also run the pairs skipped as slow")


def floor_pairs(path: str | os.PathLike) -> set[tuple[str, str]]:
    with open(path, "rb") as f:
        floors = tomllib.load(f).get("floor", [])
    pairs = {(fl["workload"], fl["contender"]) for fl in floors}
    pairs |= {(w, wl.JAXIMPL) for w, _ in pairs}
    return pairs


def pytest_collection_modifyitems(config, items):
    """With ``--bench-floors``, only the pairs the file names; without, every pair except
    those of ``gate_only`` workloads."""
    path = config.getoption("--bench-floors")
    wanted = floor_pairs(path) if path else None
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        if spec is not None and "case" in spec.params:
            w, c = spec.params["case"]
            ok = (w.id, c) in wanted if wanted is not None else not w.gate_only
            (keep if ok else drop).append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --------------------------------------------------------------------------- memory


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    """Reset the peak resident set (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _malloc_trim() -> None:
    """Give freed heap memory back to the OS (glibc), so the RSS before a call is live memory."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _jax_memory_stats() -> dict | None:
    try:
        import jax

        return jax.devices()[0].memory_stats()
    except Exception:
        return None


def measure_memory(call, device: str) -> dict:
    """Peak memory of one call: resident set on the host, and the device's where reported.

    ``peak_rss_mib`` is the process's peak resident set during the call (VmHWM after
    resetting it), ``peak_rss_delta_mib`` that peak minus the resident set just
    before (what the workload added, inputs excluded), after ``malloc_trim`` returned
    the heap's free pages to the OS. Memory an allocator keeps mapped for reuse
    (XLA's, torch's caches, glibc arenas it cannot trim) is not counted again, so
    small deltas are lower bounds. On a GPU, JAX's allocator
    reports ``peak_bytes_in_use`` for the process lifetime only (no reset): it is
    recorded when the call raised it, else ``device_peak_note`` says so. torch CUDA
    peaks are reset before the call.
    """
    info: dict = {}
    gc.collect()
    _malloc_trim()
    rss_before = _status_kib("VmRSS")
    reset = _reset_hwm()
    jax_before = _jax_memory_stats() if device.startswith(("gpu", "cuda", "tpu")) else None
    torch_cuda = device == "torch:cuda"
    if torch_cuda:
        import torch

        torch.cuda.reset_peak_memory_stats()
        torch_before = torch.cuda.memory_allocated()
    out = call()
    hwm = _status_kib("VmHWM")
    del out
    if hwm is not None:
        info["peak_rss_mib"] = round(hwm / 1024, 1)
        if reset and rss_before is not None:
            info["peak_rss_delta_mib"] = round(max(hwm - rss_before, 0) / 1024, 1)
        else:
            info["peak_rss_note"] = "VmHWM could not be reset: process lifetime peak"
    if jax_before:
        after = _jax_memory_stats() or {}
        peak_before, peak_after = (
            jax_before.get("peak_bytes_in_use"),
            after.get("peak_bytes_in_use"),
        )
        if peak_after is not None:
            if peak_before is not None and peak_after > peak_before:
                used = jax_before.get("bytes_in_use", 0)
                info["device_peak_mib"] = round(peak_after / 2**20, 1)
                info["device_peak_delta_mib"] = round((peak_after - used) / 2**20, 1)
            else:
                info["device_peak_note"] = "not above the process's earlier device peak"
    if torch_cuda:
        info["device_peak_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        info["device_peak_delta_mib"] = round(
            (torch.cuda.max_memory_allocated() - torch_before) / 2**20, 1
        )
    return info


# --------------------------------------------------------------------------- inputs and timing

_inputs_cache: dict = {}


def workload_inputs(workload: wl.Workload) -> dict:
    """The inputs of one workload, kept only while its contenders run (they are consecutive)."""
    if workload.id not in _inputs_cache:
        _inputs_cache.clear()
        gc.collect()
        _inputs_cache[workload.id] = workload.make()
    return _inputs_cache[workload.id]


@pytest.fixture
def bench_policy(request) -> Policy:
    return POLICIES[request.config.getoption("--bench-mode")]


@pytest.fixture
def run_benchmark(benchmark, bench_policy, request):
    """Time ``prepared.call`` under the mode's policy and record everything in extra_info."""

    def run(workload: wl.Workload, contender: str, prepared) -> None:
        policy = bench_policy
        if prepared.cold:  # one pass, compiles included: nothing may warm it
            _run_cold(benchmark, workload, contender, prepared, request)
            return
        start, times = perf_counter(), []
        while not times or (
            perf_counter() - start < policy.warmup_s and len(times) < MAX_WARMUP_CALLS
        ):
            t0 = perf_counter()
            prepared.call()
            times.append(perf_counter() - t0)
        recent = sorted(times[len(times) // 2 :])
        t = max(recent[len(recent) // 2], 1e-7)  # median of the later warm-up calls
        iterations = max(1, min(10_000, int(policy.min_round_s / t)))
        per_round = t * iterations
        rounds = int(policy.budget_s / per_round)
        rounds = max(policy.min_rounds, min(policy.max_rounds, rounds))
        if t > SLOW_CALL_S:
            rounds = min(rounds, 3)
        _describe(benchmark, workload, contender, prepared, request, len(times))
        benchmark.pedantic(
            prepared.call,
            rounds=rounds,
            iterations=iterations,
            warmup_rounds=0,  # warmed above
        )
        if policy.memory:
            benchmark.extra_info.update(measure_memory(prepared.call, prepared.device))
        else:
            benchmark.extra_info["memory_note"] = "not measured in short mode"

    return run


def _describe(benchmark, workload: wl.Workload, contender: str, prepared, request, warmup: int):
    """The benchmark's group and ``extra_info``: what ran, where, and its compile time."""
    benchmark.group = workload.id
    benchmark.extra_info.update(
        op=workload.op,
        workload=workload.id,
        name=workload.name,
        size=workload.size,
        series=workload.series,
        contender=contender,
        device=prepared.device,
        compile_s=prepared.compile_s,
        compile_method=prepared.compile_method,
        mode=request.config.getoption("--bench-mode"),
        warmup_calls=warmup,
        **prepared.notes,
    )


def _run_cold(benchmark, workload: wl.Workload, contender: str, prepared, request) -> None:
    """One timed call of a cold contender (it clears the JAX caches itself): one round."""
    prepared.compile_method = "included in the timed call (cold pass)"
    _describe(benchmark, workload, contender, prepared, request, 0)
    benchmark.pedantic(prepared.call, rounds=1, iterations=1, warmup_rounds=0)


# --------------------------------------------------------------------------- skips and JSON

_skipped: list[dict] = []


def pytest_runtest_logreport(report):
    if report.skipped and report.when in ("setup", "call"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        _skipped.append({"nodeid": report.nodeid, "reason": reason})


def _machine() -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "logical_cpus": os.cpu_count(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["mem_total_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        import jax

        info["jax"] = jax.__version__
        info["jax_backend"] = jax.default_backend()
        info["jax_devices"] = [
            f"{d.platform}:{getattr(d, 'device_kind', '')}" for d in jax.devices()
        ]
    except Exception:  # pragma: no cover
        pass
    try:
        import torch
        import torchvision

        info["torch"] = torch.__version__
        info["torchvision"] = torchvision.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY")
        if torch.cuda.is_available():
            info["cuda_device"] = torch.cuda.get_device_name(0)
    except Exception:  # pragma: no cover
        pass
    import numpy

    info["numpy"] = numpy.__version__
    info["jaximpl_module"] = os.environ.get("BENCH_JAXIMPL", "jaximpl")
    # Set by the gate: a shape compiled earlier in the run loads from the cache, so its
    # compile_s is a load, not a compile (the published tables run without).
    info["jax_compilation_cache"] = bool(os.environ.get("JAX_COMPILATION_CACHE_DIR"))
    return info


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["anchor_bench"] = {
        "mode": config.getoption("--bench-mode"),
        "floors": config.getoption("--bench-floors"),
        "machine": _machine(),
        "skipped": list(_skipped),
    }
