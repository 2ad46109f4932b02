"""Issue 17 through the Python API: the properties of tests/test_fuzz_commands.py for ``rackwright.evaluate``,
``evaluate_batch``, the perf API (``rackwright.perf.api``), the site API (``load_site`` / ``plan_site``) and the
fleet API (``job_report``, ``spares_report``).

Each case calls a function that works with one argument changed: a number outside or inside its domain (the
domains declared in tests/test_fuzz_commands.py, the CLI options these arguments stand for), or a value of the
wrong type (a string, a list, a mapping, bytes, a bool, a complex number, an array). Bad input raises
:class:`rackwright.InputError` (never a bare ValueError, TypeError, AttributeError or KeyError); good input
returns a document whose figures are finite and in their physical range.
"""

from __future__ import annotations

import inspect
import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import rackwright
from rackwright.fleet import job_report, qualify, spares_report
from rackwright.perf.api import inference_report, search_report, train_report
from rackwright.rack.evaluation import sound_design
from rackwright.site.planner import plan_site
from rackwright.site.schema import load_site
from test_fuzz_commands import AVAILABILITY, COUNT, MODELS, Choice, Number, in_range
from test_fuzz_files import _leaves, _outside
from test_validity import BATCH_PATHS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GB200 = EXAMPLES / "gb200-nvl72.yaml"
RESULTS = EXAMPLES / "qualification-gb200.csv"
GB200_RACK = sound_design(GB200)  # the fleet models take an evaluated rack
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # a numpy warning fails the test

#: Examples per function (each call takes milliseconds but plan_site's, half a second).
EXAMPLES_PER_FUNCTION = int(os.environ.get("FUZZ_EXAMPLES", 15))  # FUZZ_EXAMPLES=200: a deeper search
SETTINGS = settings(max_examples=EXAMPLES_PER_FUNCTION, deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])

#: Values of the wrong type for a number argument (a string is right only for a quantity with its unit).
WRONG_TYPES = ["abc", "12", "", [1], {"a": 1}, b"1", True, complex(1, 1), np.array([1.0, 2.0]), object()]


def value_case(spec, data, required: bool = True):
    """An argument value and whether it lies outside the domain of ``spec`` (None: it may or may not)."""
    if isinstance(spec, Choice):
        word = data.draw(st.one_of(st.sampled_from(spec.values + spec.maybe), st.sampled_from(["", "x", "BF16"]),
                                   st.sampled_from([1, None, ["bf16"], b"bf16"])), label="word")
        return word, None if word in spec.maybe else word not in spec.values
    if data.draw(st.booleans(), label="wrong type"):
        value = data.draw(st.sampled_from(WRONG_TYPES + ([None] if required else [])), label="value")
        return value, True
    x = data.draw(st.one_of(
        st.sampled_from([-spec.valid, 0, math.nan, math.inf, -math.inf, 1e12, 1e308, 1e-300, spec.valid * 1.5 + 0.25,
                         spec.low, spec.high, spec.high + 1]),
        st.integers(-1000, 1000), st.floats(-1e4, 1e4)), label="x")
    inside = spec.inside(x)
    assume(not (inside and x > spec.cap))
    if math.isfinite(x) and x == round(x) and abs(x) < 1e15:
        x = int(x)
    x = data.draw(st.sampled_from([x, np.float64(x)] if isinstance(x, float) else [x, np.int64(x)]), label="kind")
    return (f"{x} {spec.unit}" if spec.unit else x), not inside


def call(function, kwargs: dict):
    """The function's document, or None when it raised InputError (any other exception fails the test)."""
    try:
        return function(**kwargs)
    except rackwright.InputError as exc:
        assert str(exc), "an InputError says what is wrong"
        return None


# --- perf and fleet: one keyword argument changed -----------------------------------------------------------

PRECISION = Choice(("bf16", "fp8"), maybe=("fp4",))
SEQ_LEN = Number(8192, 1, 1e8, integer=True, cap=131072)
FUNCTIONS = {  # name: (function, keyword arguments that work, {argument: domain})
    "perf train_report": (train_report, dict(model_name="llama3-8b", system_name="dgx-h100-ndr", global_batch=64, tp=8,
                                             train_tokens=1e12), {
        "global_batch": Number(64, **COUNT, cap=4096), "micro_batch": Number(1, **COUNT, cap=64),
        "tp": Number(8, **COUNT), "pp": Number(1, **COUNT), "vp": Number(1, **COUNT), "cp": Number(1, **COUNT),
        "ep": Number(1, **COUNT), "accelerators": Number(64, **COUNT, cap=4096), "seq_len": SEQ_LEN,
        "train_tokens": Number(1e12, 1, 1e16), "recompute": Choice(("none", "selective", "full")),
        "attention": Choice(("flash", "materialized")), "precision": PRECISION, "model_name": Choice(MODELS)}),
    "perf search_report": (search_report, dict(model_name="llama3-8b", system_name="dgx-h100-ndr", accelerators=None,
                                               global_batch=64), {
        "global_batch": Number(64, **COUNT, cap=4096), "accelerators": Number(64, **COUNT, cap=1024),
        "top": Number(10, **COUNT), "seq_len": SEQ_LEN, "precision": PRECISION}),
    "perf inference_report": (inference_report, dict(model_name="llama3-70b", system_name="dgx-h100-ndr", batch=8,
                                                     input_tokens=1000, output_tokens=200), {
        "batch": Number(8, **COUNT, cap=4096), "input_tokens": Number(1000, 1, 1e8, integer=True, cap=1e6),
        "output_tokens": Number(200, 1, 1e8, integer=True, cap=1e6), "tp": Number(8, **COUNT),
        "precision": PRECISION, "model_name": Choice(MODELS)}),
    "fleet job_report": (job_report, dict(design=GB200_RACK, accelerators=1024), {
        "accelerators": Number(1024, **COUNT), "checkpoint_write_s": Number(60, 1e-3, 1e6),
        "spares": Number(8, 0, 1e6, integer=True), "bytes_per_param": Number(14, 0.125, 64),
        "oversubscription": Number(1, 1, 100), "availability": AVAILABILITY,
        "storage_bandwidth": Number(2, 0, 1e6, low_open=True, unit="TB/s"), "model": Choice(MODELS)}),
    "fleet spares_report": (spares_report, dict(design=GB200_RACK, racks=10, repair_days=5), {
        "racks": Number(10, **COUNT), "repair_days": Number(5, 0, 3640, low_open=True), "availability": AVAILABILITY}),
}


def fuzz_one_argument(name, data):
    function, kwargs, specs = FUNCTIONS[name]
    argument = data.draw(st.sampled_from(sorted(specs)), label="argument")
    optional = inspect.signature(function).parameters[argument].default is None  # None: the default
    value, outside = value_case(specs[argument], data, required=not optional)
    document = call(function, {**kwargs, argument: value})
    if document is not None:
        assert not outside, f"{name}({argument}={value!r}) was accepted"
        in_range(document)


@pytest.mark.parametrize("name", FUNCTIONS)
@SETTINGS
@given(data=st.data())
def test_fuzzed_arguments(name, data):
    fuzz_one_argument(name, data)


#: What the fuzz found in the fleet API (bare ValueError, TypeError, a numpy overflow, or accepted), by hand.
FLEET_FOUND = {
    "job accelerators=nan: ValueError": (job_report, dict(design=GB200_RACK, accelerators=math.nan)),
    "job accelerators='abc': ValueError": (job_report, dict(design=GB200_RACK, accelerators="abc")),
    "job accelerators=1e12: accepted": (job_report, dict(design=GB200_RACK, accelerators=10**12)),
    "job spares=1.5: accepted": (job_report, dict(design=GB200_RACK, accelerators=72, spares=1.5)),
    "job oversubscription=0.5: accepted": (job_report, dict(design=GB200_RACK, accelerators=72, oversubscription=0.5)),
    "job bytes_per_param=65: accepted": (job_report, dict(design=GB200_RACK, accelerators=72, bytes_per_param=65)),
    "job storage 1e-300 TB/s: overflow": (job_report, dict(design=GB200_RACK, accelerators=72,
                                                            storage_bandwidth="1e-300 TB/s")),
    "job availability=1e-300: accepted": (job_report, dict(design=GB200_RACK, accelerators=72, availability=1e-300)),
    "spares racks='x': TypeError": (spares_report, dict(design=GB200_RACK, racks="x", repair_days=5)),
    "spares racks=1.5: accepted": (spares_report, dict(design=GB200_RACK, racks=1.5, repair_days=5)),
    "spares repair_days=[5]: TypeError": (spares_report, dict(design=GB200_RACK, racks=10, repair_days=[5])),
    "spares repair_days=1e12: accepted": (spares_report, dict(design=GB200_RACK, racks=10, repair_days=1e12)),
    "qualify design=123: TypeError": (qualify, dict(design=123, results=RESULTS)),
    "qualify results=123: TypeError": (qualify, dict(design=GB200_RACK, results=123)),
    "qualify racks=[1]: TypeError": (qualify, dict(design=GB200_RACK, results=RESULTS, racks=[1])),
    "qualify racks='R01': read as racks R, 0 and 1": (qualify, dict(design=GB200_RACK, results=RESULTS, racks="R01")),
}


@pytest.mark.parametrize("case", FLEET_FOUND)
def test_fleet_found(case):
    function, kwargs = FLEET_FOUND[case]
    with pytest.raises(rackwright.InputError):
        function(**kwargs)


# --- evaluate and evaluate_batch: the design argument, and batch overrides of every shape and type -------------

DESIGN_ARGUMENTS = [123, None, b"gb200.yaml", [str(GB200)], {"name": "x"}, EXAMPLES, EXAMPLES / "no-such.yaml",
                    "name: inline YAML", True, 1.5, object(), str(EXAMPLES / "site-100mw.yaml")]


@pytest.mark.parametrize("design", DESIGN_ARGUMENTS, ids=repr)
def test_evaluate_refuses_what_is_not_a_design(design):
    with pytest.raises(rackwright.InputError):
        rackwright.evaluate(design)
    with pytest.raises(rackwright.InputError):
        rackwright.evaluate_batch(design, {"parts.accelerator.power": [1000.0]})


BATCH_VALUES = st.one_of(
    st.sampled_from(["1200 W", "-3 kW", "nan W", "32 degC", "abc", "", "1e400 W", "1.5", b"1200", None, True,
                     complex(1, 1), [], [[1.0, 2.0], [3.0]], {"a": 1.0}, [1.0, "a"], [None, 1.0],
                     np.array(["a", "b"]), np.array([1.0, 2.0], dtype=object), np.zeros((2, 3)), np.array([])]),
    st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6)), max_size=4))


@SETTINGS
@given(overrides=st.dictionaries(st.sampled_from(BATCH_PATHS + ["no.such.path", "slots[nowhere].count"]),
                                 BATCH_VALUES, min_size=1, max_size=2))
def test_fuzzed_batch_overrides(overrides):
    try:
        batch = rackwright.evaluate_batch(GB200, overrides)
    except rackwright.InputError:
        return
    for key, figure in batch.figures.items():
        assert np.isfinite(figure[batch.feasible]).all(), key
    if batch.feasible.size and batch.feasible.all():
        first = rackwright.evaluate_batch(GB200, {p: np.ravel(np.asarray(v, float))[:1] if np.ndim(v) else v
                                                  for p, v in overrides.items()})
        assert first.feasible.all()


# --- the site API: a site file's fields overridden (load_site's overrides, the CLI's --set) ---------------------

SITE = YAML(typ="safe", pure=True).load(EXAMPLES / "site-100mw.yaml")
SITE_NUMBERS = [(".".join(map(str, p)), v) for p, v in _leaves(SITE)
                if isinstance(v, (int, float)) and not isinstance(v, bool)]
SITE_TEXT = [(".".join(map(str, p)), v) for p, v in _leaves(SITE) if isinstance(v, str)]


@SETTINGS
@given(data=st.data())
def test_fuzzed_site_fields(tmp_path, data):
    site = tmp_path / "site.yaml"
    shutil_copy(EXAMPLES, tmp_path)
    path, value = data.draw(st.sampled_from(SITE_NUMBERS + SITE_TEXT), label="field")
    new = data.draw(st.sampled_from([-value if not isinstance(value, str) else f"-{value}", math.nan, math.inf, 0,
                                     1e308, "abc", None, [value], {"x": value}, True, b"x"]), label="new")
    outside = isinstance(new, float) and _outside(value, new, path.split(".")[-1])
    try:
        plan = plan_site(load_site(site, {path: new}))
    except rackwright.InputError:
        return
    assert not outside, f"{path}: {new!r} was accepted"
    summary = plan.summary()
    in_range(summary)


SITE_CALLS = {  # each was a TypeError or AttributeError
    "load_site(123)": lambda: load_site(123),
    "load_site(None)": lambda: load_site(None),
    "overrides a string": lambda: load_site(EXAMPLES / "site-100mw.yaml", "fabric.tiers=2"),
    "overrides a list": lambda: load_site(EXAMPLES / "site-100mw.yaml", [("fabric.tiers", 2)]),
    "an override path not text": lambda: load_site(EXAMPLES / "site-100mw.yaml", {1: 2}),
    "plan_site(123)": lambda: plan_site(123),
    "plan_site(catalog='x')": lambda: plan_site(EXAMPLES / "site-100mw.yaml", catalog="x"),
    "plan_site(progress=1)": lambda: plan_site(EXAMPLES / "site-100mw.yaml", progress=1),
}


@pytest.mark.parametrize("case", SITE_CALLS)
def test_the_site_api_refuses_wrong_types(case):
    with pytest.raises(rackwright.InputError):
        SITE_CALLS[case]()


def shutil_copy(source: Path, target: Path) -> None:
    """The examples the site file names (its designs), next to it."""
    for name in ("site-100mw.yaml", "gb200-nvl72.yaml", "gb300-nvl72.yaml"):
        (target / ("site.yaml" if name.startswith("site") else name)).write_text((source / name).read_text())


# --- what the fuzz found in the perf API --------------------------------------------------------------------

TRAIN = dict(model_name="llama3-8b", system_name="dgx-h100-ndr", global_batch=64, tp=8)
SEARCH = dict(model_name="llama3-8b", system_name="dgx-h100-ndr", accelerators=None, global_batch=64)
INFER = dict(model_name="llama3-70b", system_name="dgx-h100-ndr", batch=8, input_tokens=1000, output_tokens=200)
#: What the first runs of this fuzz found in the perf API, one case per kind of defect (a bare exception, a numpy
#: warning, or nonsense returned), each an InputError since the perf API checks its arguments (issue 18).
PERF_FOUND = {
    "train global_batch=0: ZeroDivisionError": (train_report, {**TRAIN, "global_batch": 0}),
    "train micro_batch=0: ZeroDivisionError": (train_report, {**TRAIN, "micro_batch": 0}),
    "train pp=-1: negative step time, MFU, days": (train_report, {**TRAIN, "pp": -1}),
    "train tp='8': TypeError": (train_report, {**TRAIN, "tp": "8"}),
    "train vp=0: numpy divide warning": (train_report, {**TRAIN, "vp": 0}),
    "train ep=nan: accepted": (train_report, {**TRAIN, "ep": math.nan}),
    "train seq_len=nan: NaN figures": (train_report, {**TRAIN, "seq_len": math.nan}),
    "train recompute=None: KeyError": (train_report, {**TRAIN, "recompute": None}),
    "train attention='abc': accepted": (train_report, {**TRAIN, "attention": "abc"}),
    "train system_name=None: TypeError": (train_report, {**TRAIN, "system_name": None}),
    "train accelerators=nan: bare ValueError": (train_report, {**TRAIN, "accelerators": math.nan}),
    "search accelerators=0: accepted": (search_report, {**SEARCH, "accelerators": 0}),
    "search global_batch=inf: numpy remainder warning": (search_report, {**SEARCH, "global_batch": math.inf}),
    "search top=2.5: TypeError": (search_report, {**SEARCH, "top": 2.5}),
    "search top=-1: accepted": (search_report, {**SEARCH, "top": -1}),
    "search seq_len=-1: accepted": (search_report, {**SEARCH, "seq_len": -1}),
    "infer batch=-1: negative tokens/s": (inference_report, {**INFER, "batch": -1}),
    "infer input_tokens=nan: NaN figures": (inference_report, {**INFER, "input_tokens": math.nan}),
    "infer output_tokens=inf: numpy divide warning": (inference_report, {**INFER, "output_tokens": math.inf}),
    "infer tp=0: ZeroDivisionError": (inference_report, {**INFER, "tp": 0}),
    "infer tp=-1: negative figures": (inference_report, {**INFER, "tp": -1}),
    "infer racks=0 with a built-in system: accepted": (inference_report, {**INFER, "racks": 0}),
}


@pytest.mark.parametrize("case", PERF_FOUND)
def test_perf_found(case):
    function, kwargs = PERF_FOUND[case]
    with pytest.raises(rackwright.InputError):
        function(**kwargs)
