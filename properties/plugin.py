"""The suite's pytest plugin, registered as a ``pytest11`` entry point.

After ``pip install`` of this project it is active in every pytest run, so a
user can point the suite at their own implementation from their repository::

    pytest --pyargs properties --impl=their_package.anchors

Options: ``--impl=NAME`` picks the implementation under test: ``jaximpl`` (the
default), ``reference``, an adapter of a real library by its short name
(``torchvision``, ``keras``, ... : the modules of ``properties/adapters/``), any
importable module, or a path to a ``.py`` file. Fixture ``impl`` is an
:class:`Implementation`: ``impl.nms(...)`` calls the module's ``nms``, and a
function the module lacks skips the test with "nms not provided by NAME".

Conventions (:mod:`properties.conventions`, CONTRACT.md §7): the module may declare
``CONVENTIONS`` (a preset name or a mapping); ``--conventions=PRESET`` replaces that
declaration and ``--convention KEY=VALUE`` (repeatable) overrides one key. Fixture
``conventions`` holds the conventions in force for the implementation; boxes are
converted to and from its declared ``box_format`` at the call, so properties never
see the format. The report header prints the conventions in force.

``--impl-plan=FILE`` runs the suite against several implementations in one
process, each with its own selection of tests. FILE is JSON::

    {"nms_ge": {"impl": "properties/broken/nms_ge.py",
                "tests": ["test_nms.py::test_nms_iou_exactly_at_threshold_is_kept"]},
     "reference": {"impl": "reference"},
     "keras_hub@contract": {"impl": "keras_hub", "conventions": {"preset": "contract",
                                                                  "box_format": "yxyx"}}}

Each test that uses ``impl`` runs once per implementation whose ``"tests"`` names
it (``"file.py::test_name"``; no ``"tests"`` means every test), with the
implementation's name as a parameter: ``test_nms.py::test_...[nms_ge]``. Tests
that no implementation selects, and tests that do not use ``impl``, are
deselected. An entry's ``"conventions"`` (a preset name or a mapping) replaces its
module's declaration. In the JUnit XML each test case carries the properties ``impl``
and ``conventions_read`` (the convention keys the test read, comma-separated).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from . import asserts, jax_cache, stats
from . import conventions as conv
from ._implementation import (  # noqa: F401  (re-exported: the suite imports them from here)
    ADAPTERS_DIR,
    CONTRACT_FUNCTIONS,
    DETECTOR_FUNCTIONS,
    OPTIONAL_FUNCTIONS,
    Implementation,
    PlanEntry,
    adapter_names,
    load_implementation,
    read_plan,
)
from .profiles import default_profile, register_profiles

register_profiles()
# The conformance table's profile (``python -m properties conformance``): ``ci``'s settings
# (derandomized, shrinking on) with fewer examples, so that every installed library runs within
# CI's budget for the stage (about 3 minutes, its install included, on 2 cores).
CONFORMANCE_EXAMPLES = 10
settings.register_profile(
    "conformance", parent=settings.get_profile("ci"), max_examples=CONFORMANCE_EXAMPLES
)
# ... and for what is known already (the listed failures, the runs under the contract's
# conventions): no shrinking, which took most of the table's time (a listed failure's shrunk
# counterexample is in docs/conformance.md from when it was found).
settings.register_profile(
    "conformance-known",
    parent=settings.get_profile("conformance"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


# Suite files about the contract's argument checks (CONTRACT.md §6), skipped for a module that
# declares CHECKS_ARGUMENTS = False (the adapters of real libraries: §6 is this project's API).
ARGUMENT_CHECK_FILES = ("test_bad_input.py",)
# ... and the other modules' own tests of them (the detector operations': test_*_rejects_*).
ARGUMENT_CHECK_NAMES = ("_reject",)


def _resolved(spec: str) -> str:
    """A path spec as an absolute path (for repro snippets), a module name as it is."""
    is_path = spec.endswith(".py") or "/" in spec or os.sep in spec
    return str(Path(spec).expanduser().resolve()) if is_path else spec


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("anchor-properties", "anchor-box property suite")
    group.addoption(
        "--impl",
        default=os.environ.get("ANCHOR_IMPL", "jaximpl"),
        help="implementation under test: 'jaximpl' (default), 'reference', an importable "
        "module name, or a path to a .py file (env: ANCHOR_IMPL)",
    )
    plan_help = (
        'several implementations in one run: FILE is JSON {"name": {"impl": SPEC, '
        '"tests": ["file.py::test_name", ...]}, ...} (no "tests": all); overrides --impl'
    )
    group.addoption("--impl-plan", metavar="FILE", help=plan_help)
    group.addoption(
        "--conventions",
        metavar="PRESET",
        default=None,
        help=f"judge the implementation by these conventions instead of the ones it declares "
        f"(CONTRACT.md §7); presets: {', '.join(conv.PRESETS)}",
    )
    group.addoption(
        "--convention",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help=f"override one convention (repeatable): {conv.help_text()}",
    )
    group.addoption(
        "--anchor-reports",
        default=os.environ.get("ANCHOR_REPORTS", "anchor-reports"),
        help="folder for the PNG drawings of failing examples ('' to disable; "
        "env: ANCHOR_REPORTS; default: anchor-reports)",
    )
    group.addoption(
        "--anchor-stats",
        default=None,
        metavar="FILE",
        help="write a Markdown table of examples, JAX compiles and seconds per test to FILE",
    )
    jax_cache.add_option(group)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    jax_cache.configure(config)
    # Hypothesis's own plugin loads --hypothesis-profile; otherwise pick ours.
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile(default_profile())
    config._anchor_impl = None  # loaded on first use
    reports = config.getoption("anchor_reports", "anchor-reports")
    asserts.REPORTS_DIR = Path(reports).resolve() if reports else None
    asserts.IMPL_SPEC = _resolved(config.getoption("impl", "jaximpl"))
    preset = config.getoption("conventions", None)
    overrides = tuple(config.getoption("convention", None) or ())
    try:  # an unknown preset, key or value is a usage error, before anything runs
        conv.resolve(None, preset, overrides, where="--conventions/--convention: ")
    except conv.ConventionError as e:
        raise pytest.UsageError(str(e)) from None
    config._anchor_conventions = (preset, overrides)
    plan = config.getoption("impl_plan", None)
    config._anchor_plan = read_plan(plan) if plan else None
    config._anchor_plan_impls = {}
    stats.configure(config)


def _test_id(path: Path, function_name: str) -> str:
    return f"{path.name}::{function_name}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With ``--impl-plan``: parametrize ``impl`` by the implementations that select the test."""
    plan = getattr(metafunc.config, "_anchor_plan", None)
    if not plan or "impl" not in metafunc.fixturenames:
        return
    test = _test_id(metafunc.definition.path, metafunc.function.__name__)
    names = [n for n, e in plan.items() if e.tests is None or test in e.tests]
    if names:
        metafunc.parametrize("impl", names, indirect=True, ids=names, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--impl-plan``: keep only the (test, implementation) pairs of the plan."""
    if not getattr(config, "_anchor_plan", None):
        return
    keep, drop = [], []
    for item in items:
        name = getattr(item, "callspec", None) and item.callspec.params.get("impl")
        if name:
            item.user_properties.append(("impl", name))
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def get_implementation(config: pytest.Config) -> Implementation:
    if getattr(config, "_anchor_impl", None) is None:
        preset, overrides = getattr(config, "_anchor_conventions", (None, ()))
        config._anchor_impl = load_implementation(config.getoption("impl"), preset, overrides)
    return config._anchor_impl


def plan_implementation(config: pytest.Config, name: str) -> Implementation:
    """The implementation ``name`` of the ``--impl-plan``, loaded on first use."""
    impls = config._anchor_plan_impls
    if name not in impls:
        entry = config._anchor_plan[name]
        preset, overrides = getattr(config, "_anchor_conventions", (None, ()))
        declared = entry.conventions if entry.conventions is not None else preset
        loaded = load_implementation(entry.impl, declared, overrides)
        impls[name] = Implementation(name, loaded.module, loaded.conventions, loaded.spec)
    return impls[name]


def _conventions_line(label: str, conventions: conv.Conventions) -> str:
    presets = conventions.preset_names()
    named = f" (preset {' = '.join(presets)})" if presets else ""
    return f"anchor-box suite: conventions{label}: {conventions.describe()}{named}"


def pytest_report_header(config: pytest.Config) -> list[str]:
    plan = getattr(config, "_anchor_plan", None)
    if plan:
        lines = [f"anchor-box suite: implementation plan of {len(plan)}: {', '.join(plan)}"]
        for name in plan:
            impl = plan_implementation(config, name)
            lines.append(_conventions_line(f" of {name}", impl.conventions))
    else:
        impl = get_implementation(config)
        lines = [f"anchor-box suite: implementation {impl.name} ({impl.path})"]
        lines.append(_conventions_line("", impl.conventions))
    lines.append(f"anchor-box suite: hypothesis profile {settings.get_current_profile_name()}")
    try:
        import jax

        lines.append(f"anchor-box suite: jax {jax.__version__}, devices {jax.devices()}")
    except Exception as e:  # pragma: no cover - jax is a dependency
        lines.append(f"anchor-box suite: jax unavailable ({e})")
    return lines


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Implementation:
    """The implementation under test (``--impl``, or this test's one of ``--impl-plan``)."""
    name = getattr(request, "param", None)
    if name is None:
        return get_implementation(request.config)
    implementation = plan_implementation(request.config, name)
    # Repro snippets load this implementation (tests run grouped by it: a session-scoped
    # parameter is set up again, and this line runs, whenever it changes).
    asserts.IMPL_SPEC = _resolved(request.config._anchor_plan[name].impl)
    return implementation


def _item_implementation(item: pytest.Item) -> Implementation | None:
    """The implementation a test item runs against (None if it does not use ``impl``)."""
    if "impl" not in getattr(item, "fixturenames", ()):
        return None
    name = getattr(item, "callspec", None) and item.callspec.params.get("impl")
    if name:
        return plan_implementation(item.config, name)
    return get_implementation(item.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    name = getattr(item, "originalname", item.name)
    if item.path.name not in ARGUMENT_CHECK_FILES and not any(
        part in name for part in ARGUMENT_CHECK_NAMES
    ):
        return
    impl = _item_implementation(item)
    if impl is not None and not getattr(impl.module, "CHECKS_ARGUMENTS", True):
        pytest.skip(
            f"{impl.name} does not check its arguments the contract's way (CONTRACT.md §6 is "
            "this project's API, not a library convention)"
        )


@pytest.fixture(scope="session")
def conventions(impl: Implementation) -> conv.Reading:
    """The conventions the implementation under test is judged by (CONTRACT.md §7)."""
    return conv.Reading(impl.conventions)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Note which conventions the test read: the conformance table says why a library departs
    from the contract with them (``conventions_read`` in the JUnit XML)."""
    conv.start_reading()
    try:
        yield
    finally:
        read = conv.stop_reading()
        item.user_properties.append(("conventions_read", ",".join(read)))
