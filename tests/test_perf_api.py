"""The perf Python API refuses what cannot describe a run with InputError (a ValueError), naming the option."""

import math
import warnings

import pytest

import rackwright
from rackwright.perf.api import inference_report, search_report, train_report

TRAIN = dict(model_name="llama3-8b", system_name="dgx-h100-ndr", global_batch=64, tp=8)
SEARCH = dict(model_name="llama3-8b", system_name="dgx-h100-ndr", global_batch=64)
INFER = dict(model_name="llama3-70b", system_name="dgx-h100-ndr", batch=8, input_tokens=1000, output_tokens=200)
CASES = {
    "train global_batch=0": (train_report, {**TRAIN, "global_batch": 0}, "--global-batch"),
    "train micro_batch=0": (train_report, {**TRAIN, "micro_batch": 0}, "--micro-batch"),
    "train pp=-1": (train_report, {**TRAIN, "pp": -1}, "--pp"),
    "train tp='8'": (train_report, {**TRAIN, "tp": "8"}, "--tp"),
    "train vp=0": (train_report, {**TRAIN, "vp": 0}, "--vp"),
    "train ep=nan": (train_report, {**TRAIN, "ep": math.nan}, "--ep"),
    "train seq_len=nan": (train_report, {**TRAIN, "seq_len": math.nan}, "--seq-len"),
    "train recompute=None": (train_report, {**TRAIN, "recompute": None}, "--recompute"),
    "train attention='abc'": (train_report, {**TRAIN, "attention": "abc"}, "--attention"),
    "train system_name=None": (train_report, {**TRAIN, "system_name": None}, "--system"),
    "train accelerators=nan": (train_report, {**TRAIN, "accelerators": math.nan}, "--accelerators"),
    "train train_tokens=inf": (train_report, {**TRAIN, "train_tokens": math.inf}, "--train-tokens"),
    "train sp='yes'": (train_report, {**TRAIN, "sp": "yes"}, "--sp"),
    "train precision=['bf16']": (train_report, {**TRAIN, "precision": ["bf16"]}, "--precision"),
    "train first_stage_layers=-1": (train_report, {**TRAIN, "first_stage_layers": -1}, "--first-stage-layers"),
    "train recompute_modules=1": (train_report, {**TRAIN, "recompute": "selective", "recompute_modules": 1},
                                  "--recompute-modules"),
    "search accelerators=0": (search_report, {**SEARCH, "accelerators": 0}, "--accelerators"),
    "search accelerators=True": (search_report, {**SEARCH, "accelerators": True}, "--accelerators"),
    "search global_batch=inf": (search_report, {**SEARCH, "global_batch": math.inf}, "--global-batch"),
    "search top=2.5": (search_report, {**SEARCH, "top": 2.5}, "--top"),
    "search top=-1": (search_report, {**SEARCH, "top": -1}, "--top"),
    "search seq_len=-1": (search_report, {**SEARCH, "seq_len": -1}, "--seq-len"),
    "search backend='mpi'": (search_report, {**SEARCH, "backend": "mpi"}, "--backend"),
    "infer batch=-1": (inference_report, {**INFER, "batch": -1}, "--batch"),
    "infer input_tokens=nan": (inference_report, {**INFER, "input_tokens": math.nan}, "--input-tokens"),
    "infer output_tokens=inf": (inference_report, {**INFER, "output_tokens": math.inf}, "--output-tokens"),
    "infer tp=0": (inference_report, {**INFER, "tp": 0}, "--tp"),
    "infer tp=-1": (inference_report, {**INFER, "tp": -1}, "--tp"),
    "infer racks=0": (inference_report, {**INFER, "racks": 0}, "--racks"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_arguments_are_input_errors(case):
    function, kwargs, option = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(rackwright.InputError) as error:
            function(**kwargs)
    assert option in str(error.value) and isinstance(error.value, ValueError)


def test_integral_floats_and_defaults_are_accepted():
    doc = train_report(**{**TRAIN, "global_batch": 64.0})
    assert doc["parallelism"]["dp"] == 1 and doc["fits"] in (True, False)
    assert search_report(**{**SEARCH, "accelerators": 8, "top": 2})["best"]["tp"] >= 1


def test_a_design_that_only_extends_another_is_a_rack_system():
    """A design file whose rack comes from ``extends:`` (no ``slots:`` of its own) is a rack, not a system file:
    the tutorial's GB300 on W40 water has its parent's 72 accelerators and per-accelerator figures."""
    from pathlib import Path

    from rackwright.perf.api import resolve_system

    examples = Path(__file__).resolve().parents[1] / "examples"
    child, parent = resolve_system(examples / "tutorial-gb300-w40.yaml"), resolve_system(examples / "gb300-nvl72.yaml")
    assert child.accelerators == parent.accelerators == 72
    assert child.accelerator == parent.accelerator and child.scale_up == parent.scale_up
