"""Every (workload, contender) pair of ``workloads.WORKLOADS``: one pytest-benchmark each
(on ``box_iou`` also the write probes ``workloads.PROBES``, on ``multibox_target`` the limit
``workloads.TARGET_LIMIT``).

Pairs a contender cannot run here (no such op, no CUDA, slow by design) are skipped
with the reason, which the report lists beside the table.
"""

from __future__ import annotations

import pytest

from . import workloads as wl
from .conftest import workload_inputs
from .contenders import Unavailable, prepare

CASES = [(w, c) for w in wl.WORKLOADS for c in wl.contenders_of(w)]


@pytest.mark.parametrize("case", CASES, ids=[f"{w.id}-{c}" for w, c in CASES])
def bench_op(case, run_benchmark, request):
    workload, contender = case
    reason = workload.skip.get(contender)
    if reason and (
        contender in (wl.TORCHVISION, wl.TORCHVISION_CUDA)
        or not request.config.getoption("--bench-all")
    ):
        pytest.skip(f"{workload.id} {contender}: {reason}")
    inputs = workload_inputs(workload)
    try:
        prepared = prepare(workload.op, contender, inputs)
    except Unavailable as e:
        pytest.skip(f"{workload.id} {contender}: {e}")
    run_benchmark(workload, contender, prepared)
