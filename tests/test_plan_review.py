"""Steps 4 and 5 end to end on a small company, through StepContext as the notebooks call them."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_balance import small_case

import salesops as so
from salesops.exceptions import PlanError
from salesops.params import validate
from salesops.store import StepStore

SCENARIOS = [
    {
        "name": "push",
        "description": "Alpha up 15 %",
        "demand": [{"family": "Alpha", "from": "2027-01", "pct": 15}],
    }
]
DECISIONS = [
    {
        "id": "budget-gap-alpha",
        "title": "Alpha below budget",
        "owner": "Sales Director",
        "due": "2026-11-30",
        "status": "done",
        "decision": "Run the spring promotion",
    }
]


def params(run, out, **executive):
    return validate(
        {
            "period": "2026-11",
            "out": str(out),
            "run_dir": str(run),
            "scenarios": SCENARIOS,
            "decisions": DECISIONS,
            "executive": executive,
            "supply": {"fallback_error_cv": 0.0},
        }
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Products of steps 1-4 for the small case (step 4 through `balance.run`)."""
    run = tmp_path_factory.mktemp("run")
    store = StepStore(run)
    demand_plan, tables = small_case()
    for name, frame in tables.items():
        store.write("data_collection", name, frame)
    store.write("demand_planning", "demand_plan", demand_plan)
    store.write(
        "demand_planning",
        "error_stats",
        pd.DataFrame(
            {"unique_id": ["A1", "A2", "B1"], "sigma": 0.0, "mase": 0.8, "wape": [0.2, 0.3, 0.1], "bias": 0.0}
        ),
    )
    p = params(run, run / "out")
    sp = so.supply.plan(
        demand_plan,
        {k: tables[k] for k in ("products", "inventory", "capacity", "supply")},
        p.supply,
        period=p.period,
    )
    for name, frame in sp.products.items():
        store.write("supply_planning", name, frame)
    store.write(
        "sales_performance",
        "enps",
        pd.DataFrame(
            {
                "team": ["All"],
                "month": [pd.Timestamp("2026-10-01")],
                "responses": [30],
                "promoters": [12],
                "passives": [10],
                "detractors": [8],
                "enps": [13.3],
                "suppressed": [False],
            }
        ),
    )
    ctx = so.steps.context("pre_sop", p)
    ctx.save(so.balance.run(ctx))
    return run


def test_pre_sop_products(run_dir):
    store = StepStore(run_dir)
    scenarios = store.read("pre_sop", "scenarios")
    assert scenarios["scenario"].tolist() == ["baseline", "push"]
    assert scenarios["recommended"].sum() == 1
    exceptions = store.read("pre_sop", "exceptions")
    # Alpha plans 8,200 against a budget of 4 x 2,500: a budget gap and its decision
    assert ("budget_gap", "Alpha") in set(zip(exceptions["kind"], exceptions["subject"]))
    assert "budget-gap-alpha" in set(store.read("pre_sop", "recommendations")["id"])


def test_executive_review_approves_then_refuses_a_changed_plan(run_dir):
    out = run_dir / "out"
    p = params(run_dir, out, approved_by="Dana", approved_on="2026-11-18")
    review = so.executive.run(so.steps.context("executive_review", p))
    decisions = review.decisions.set_index("id")
    assert decisions.loc["budget-gap-alpha", "status"] == "done"
    assert "Run the spring promotion" in so.executive.decisions_table(review.decisions)._repr_markdown_()
    assert decisions.loc["plan-approval", "status"] == "done"
    assert review.kpis["kpi"].tolist() == [
        "revenue_vs_budget",
        "forecast_accuracy",
        "service_level",
        "weeks_of_supply",
        "capacity_utilisation",
        "enps",
    ]
    meta = json.loads((out / "plans" / "2026-11" / "plan.json").read_text())
    assert meta["scenario"] == review.scenario == "push"  # recommended: more margin, same service
    assert review.plan_status["hash"].item() == meta["hash"] == review.plan_of_record["hash"].iloc[0]
    record = pd.read_parquet(out / "plans" / "2026-11" / "plan.parquet")
    push = StepStore(run_dir).read("pre_sop", "scenario_demand").query("scenario == 'push'")
    assert record.loc[record["kind"] == "demand", "consensus"].sum() == pytest.approx(push["consensus"].sum())

    again = so.executive.run(so.steps.context("executive_review", p))
    assert again.status.version == 1 and again.status.hash == meta["hash"]

    other = params(run_dir, out, approved_by="Dana", approved_on="2026-11-18", scenario="baseline")
    with pytest.raises(PlanError, match="approved by Dana on 2026-11-18.*--reapprove"):
        so.executive.run(so.steps.context("executive_review", other))
