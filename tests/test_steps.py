"""The step interface: the graph, ctx.read / ctx.table / ctx.earlier, ctx.save, and every step's run(ctx)."""

from __future__ import annotations

import importlib
import inspect

import pandas as pd
import pytest

import salesops as so
from salesops import steps
from salesops.exceptions import DataError, ParameterError, UpstreamError
from salesops.store import ReportsStore, StepStore

ENTRY_POINTS = {
    "data_collection": "salesops.data",
    "sales_performance": "salesops.sales",
    "demand_planning": "salesops.demand",
    "supply_planning": "salesops.supply",
    "pre_sop": "salesops.balance",
    "executive_review": "salesops.executive",
    "follow_up": "salesops.followup",
}


def _params(tmp_path, period="2026-11"):
    return so.params.load(period=period, out=tmp_path / "out")


@pytest.mark.parametrize("step", steps.STEP_NAMES)
def test_every_step_has_one_entry_point_returning_a_step_result(step):
    module = importlib.import_module(ENTRY_POINTS[step])
    run = module.run
    assert next(iter(inspect.signature(run).parameters)) == "ctx"
    result_type = inspect.signature(run).return_annotation
    result_class = getattr(module, result_type) if isinstance(result_type, str) else result_type
    assert issubclass(result_class, steps.StepResult), f"{step}: run returns {result_type}"
    assert isinstance(inspect.getattr_static(result_class, "products"), property), step


def test_every_upstream_is_an_earlier_step():
    seen: set[str] = set()
    for step in steps.STEPS:
        assert set(step.upstream) <= seen, f"{step.name} reads a later step: {set(step.upstream) - seen}"
        seen.add(step.name)


def test_reading_outside_the_declared_upstream_is_refused_with_the_declared_list(tmp_path):
    ctx = steps.context("supply_planning", _params(tmp_path))
    with pytest.raises(UpstreamError) as err:
        ctx.read("pre_sop", "gaps")
    assert str(err.value) == (
        "step supply_planning reads 'pre_sop', which is not among its declared upstream steps "
        "(data_collection, demand_planning); add it to the step's upstream in salesops/steps.py"
    )
    first = steps.context("data_collection", _params(tmp_path))
    with pytest.raises(UpstreamError, match=r"\(none\)"):
        first.table("sales")


def test_optional_reads_take_a_default_and_required_ones_say_what_to_run(tmp_path):
    ctx = steps.context("executive_review", _params(tmp_path))
    assert ctx.read("sales_performance", "enps", default=None) is None
    assert ctx.table("survey", default=None) is None
    with pytest.raises(DataError, match=r"sales_performance/enps is missing .*--from sales_performance"):
        ctx.read("sales_performance", "enps")
    frame = pd.DataFrame({"team": ["A"], "enps": [10.0]})
    StepStore(ctx.p.run_path).write("sales_performance", "enps", frame)
    pd.testing.assert_frame_equal(ctx.read("sales_performance", "enps", default=None), frame)


class _Result(steps.StepResult):
    def __init__(self, products):
        self._products = products

    @property
    def products(self):
        return self._products


def test_save_writes_every_declared_product_and_refuses_missing_or_extra(tmp_path):
    ctx = steps.context("executive_review", _params(tmp_path))
    names = steps.get("executive_review").products
    frames = {n: pd.DataFrame({"x": [i]}) for i, n in enumerate(names)}
    with pytest.raises(ParameterError, match=r"lacks plan_status; holds undeclared extra"):
        ctx.save(_Result({**{n: frames[n] for n in names[:-1]}, "extra": frames[names[0]]}))
    assert not ctx.store.has_step("executive_review")
    ctx.save(_Result(frames))
    for i, name in enumerate(names):
        assert ctx.store.read("executive_review", name)["x"].tolist() == [i]


def test_prerequisites_follow_the_graph_transitively():
    assert steps.prerequisites(steps.select("demand_planning")) == ["data_collection", "sales_performance"]
    assert steps.prerequisites(steps.select("supply_planning", "supply_planning")) == [
        "data_collection",
        "sales_performance",
        "demand_planning",
    ]
    assert steps.prerequisites(steps.select("follow_up")) == [s for s in steps.STEP_NAMES if s != "follow_up"]
    assert steps.prerequisites(steps.select()) == []


def test_earlier_reads_published_periods_before_this_one_through_the_store(tmp_path):
    p = _params(tmp_path)
    out = tmp_path / "out"
    for period, value in (("2026-09", 1.0), ("2026-10", 2.0), ("2026-11", 3.0), ("2026-12", 4.0)):
        StepStore(out / period).write("demand_planning", "demand_plan", pd.DataFrame({"v": [value]}))
    (out / "plans").mkdir()  # not a period folder
    ctx = steps.context("follow_up", p)
    earlier = ctx.earlier("demand_planning", "demand_plan")
    assert {k: f["v"].tolist() for k, f in earlier.items()} == {"2026-09": [1.0], "2026-10": [2.0]}
    assert ReportsStore(out).periods() == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert ctx.earlier("demand_planning", "forecast") == {}
