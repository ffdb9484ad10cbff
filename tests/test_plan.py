"""Executive review: KPIs, decisions and the plan of record's immutability."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from salesops import executive, plan_of_record
from salesops.exceptions import PlanError
from salesops.params import Decision, validate

MONTHS = pd.date_range("2026-11-01", periods=3, freq="MS")


def a_plan(production=(100.0, 120.0, 90.0), scenario="baseline") -> pd.DataFrame:
    demand = pd.DataFrame(
        {
            "scenario": scenario,
            "unique_id": "A1",
            "family": "Alpha",
            "ds": MONTHS,
            "consensus": [100.0, 110.0, 95.0],
        }
    )
    families = pd.DataFrame(
        {
            "scenario": scenario,
            "family": "Alpha",
            "month": MONTHS,
            "demand": [100.0, 110.0, 95.0],
            "production": list(production),
            "inventory": 0.0,
            "backlog": 0.0,
        }
    )
    stat = pd.DataFrame({"unique_id": "A1", "ds": MONTHS, "statistical": [90.0, 100.0, 90.0]})
    return plan_of_record.plan_frame(demand, families, scenario, stat)


def params(out, approved_by=None, approved_on=None, reapprove=False, decisions=()):
    return validate(
        {
            "period": "2026-11",
            "out": str(out),
            "reapprove": reapprove,
            "decisions": list(decisions),
            "executive": {"approved_by": approved_by, "approved_on": approved_on},
        }
    )


# ---------------------------------------------------------------- plan of record
def test_plan_frame_holds_demand_and_production():
    frame = a_plan()
    assert frame.columns.tolist() == plan_of_record.PLAN_COLUMNS
    demand = frame[frame["kind"] == "demand"]
    production = frame[frame["kind"] == "production"]
    assert demand["consensus"].tolist() == [100.0, 110.0, 95.0]
    assert demand["statistical"].tolist() == [90.0, 100.0, 90.0]
    assert production["production"].tolist() == [100.0, 120.0, 90.0]


def test_unknown_approved_scenario_is_named():
    demand = pd.DataFrame(
        {"scenario": "baseline", "unique_id": "A1", "family": "F", "ds": MONTHS, "consensus": 1.0}
    )
    families = pd.DataFrame({"scenario": "baseline", "family": "F", "month": MONTHS, "production": 1.0})
    with pytest.raises(Exception, match="executive.scenario = 'Push'.*baseline"):
        plan_of_record.plan_frame(demand, families, "Push")


def test_plan_hash_ignores_row_order_but_not_numbers():
    frame = a_plan()
    assert plan_of_record.plan_hash(frame) == plan_of_record.plan_hash(
        frame.iloc[::-1].reset_index(drop=True)
    )
    assert plan_of_record.plan_hash(frame) != plan_of_record.plan_hash(
        a_plan(production=(100.0, 120.0, 91.0))
    )


def test_not_approved_writes_nothing(tmp_path):
    status = plan_of_record.freeze(a_plan(), params(tmp_path), "baseline")
    assert status.status == "proposed" and status.hash is None
    assert not (tmp_path / "plans").exists()
    assert status.frame()["status"].item() == "proposed"


def test_approval_freezes_the_plan(tmp_path):
    decision = Decision(
        id="d1", title="Approve overtime", owner="Ops", due="2026-11-20", status="done", decision="approved"
    )
    frame = a_plan()
    status = plan_of_record.freeze(
        frame,
        params(tmp_path, "Dana Whitfield", "2026-11-18", decisions=[decision.model_dump()]),
        "baseline",
        [decision],
    )
    folder = tmp_path / "plans" / "2026-11"
    stored = pd.read_parquet(folder / "plan.parquet")
    meta = json.loads((folder / "plan.json").read_text())
    assert meta["approved_by"] == "Dana Whitfield" and meta["approved_on"] == "2026-11-18"
    assert meta["hash"] == plan_of_record.plan_hash(stored) == status.hash
    assert meta["version"] == 1 and meta["scenario"] == "baseline"
    assert meta["decisions"][0]["id"] == "d1" and meta["decisions"][0]["due"] == "2026-11-20"
    assert Decision.model_validate(meta["decisions"][0]) == decision  # follow-up reads them back
    row = status.frame().iloc[0]
    assert (row["status"], row["approved_by"], row["approved_on"], row["hash"]) == (
        "approved",
        "Dana Whitfield",
        "2026-11-18",
        meta["hash"],
    )


def test_identical_plan_is_a_no_op(tmp_path):
    p = params(tmp_path, "Dana", "2026-11-18")
    plan_of_record.freeze(a_plan(), p, "baseline")
    folder = tmp_path / "plans" / "2026-11"
    before = {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in folder.iterdir()}
    status = plan_of_record.freeze(a_plan(), params(tmp_path, "Someone else", "2026-12-01"), "baseline")
    after = {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in folder.iterdir()}
    assert before == after
    assert status.approved_by == "Dana" and status.version == 1


def test_changed_plan_is_refused_with_how_to_reapprove(tmp_path):
    plan_of_record.freeze(a_plan(), params(tmp_path, "Dana", "2026-11-18"), "baseline")
    with pytest.raises(PlanError) as err:
        plan_of_record.freeze(
            a_plan(production=(100.0, 130.0, 80.0)), params(tmp_path, "Dana", "2026-11-18"), "baseline"
        )
    message = str(err.value)
    assert "plan of record of 2026-11 was approved by Dana on 2026-11-18" in message
    assert "salesops run 2026-11 --reapprove" in message
    stored = pd.read_parquet(tmp_path / "plans" / "2026-11" / "plan.parquet")
    assert plan_of_record.plan_hash(stored) == plan_of_record.plan_hash(a_plan())  # untouched


def test_reapproval_keeps_the_old_versions(tmp_path):
    first, second, third = (
        a_plan(),
        a_plan(production=(100.0, 130.0, 80.0)),
        a_plan(production=(90.0, 130.0, 90.0)),
    )
    plan_of_record.freeze(first, params(tmp_path, "Dana", "2026-11-18"), "baseline")
    status = plan_of_record.freeze(second, params(tmp_path, "Dana", "2026-11-25", reapprove=True), "baseline")
    folder = tmp_path / "plans" / "2026-11"
    assert status.version == 2
    assert plan_of_record.plan_hash(pd.read_parquet(folder / "plan.v1.parquet")) == plan_of_record.plan_hash(
        first
    )
    assert json.loads((folder / "plan.v1.json").read_text())["approved_on"] == "2026-11-18"
    meta = json.loads((folder / "plan.json").read_text())
    assert (
        meta["version"] == 2 and meta["supersedes"] == "plan.v1.json" and meta["approved_on"] == "2026-11-25"
    )
    assert plan_of_record.plan_hash(pd.read_parquet(folder / "plan.parquet")) == plan_of_record.plan_hash(
        second
    )
    plan_of_record.freeze(third, params(tmp_path, "Dana", "2026-11-28", reapprove=True), "baseline")
    assert plan_of_record.plan_hash(pd.read_parquet(folder / "plan.v2.parquet")) == plan_of_record.plan_hash(
        second
    )
    assert json.loads((folder / "plan.json").read_text())["version"] == 3
    assert sorted(f.name for f in folder.iterdir()) == [
        "plan.json",
        "plan.parquet",
        "plan.v1.json",
        "plan.v1.parquet",
        "plan.v2.json",
        "plan.v2.parquet",
    ]


def test_reapprove_with_identical_plan_changes_nothing(tmp_path):
    plan_of_record.freeze(a_plan(), params(tmp_path, "Dana", "2026-11-18"), "baseline")
    status = plan_of_record.freeze(
        a_plan(), params(tmp_path, "Dana", "2026-11-30", reapprove=True), "baseline"
    )
    assert status.version == 1 and status.approved_on == "2026-11-18"
    assert not (tmp_path / "plans" / "2026-11" / "plan.v1.json").exists()


def test_unapproved_run_reports_the_existing_record(tmp_path):
    plan_of_record.freeze(a_plan(), params(tmp_path, "Dana", "2026-11-18"), "baseline")
    status = plan_of_record.freeze(a_plan(production=(1.0, 2.0, 3.0)), params(tmp_path), "baseline")
    assert status.status == "approved" and status.approved_by == "Dana"
    assert status.hash != status.current_hash and "differs" in status.message


def test_approved_on_defaults_to_today(tmp_path):
    status = plan_of_record.freeze(a_plan(), params(tmp_path, "Dana"), "baseline")
    assert status.approved_on == dt.date.today().isoformat()


# ---------------------------------------------------------------- decisions
def test_decisions_merge_proposals_with_params():
    recs = pd.DataFrame(
        {
            "id": ["overload-line-a", "budget-gap-kettles"],
            "title": ["Line A over", "Kettles gap"],
            "owner": ["Ops", "Sales"],
            "due": pd.to_datetime(["2026-11-08", "2026-11-15"]),
            "options": ["overtime; outsource", "push; revise"],
        }
    )
    taken = [
        Decision(
            id="overload-line-a",
            title="Line A over",
            owner="COO",
            due="2026-11-10",
            status="done",
            decision="Saturday shifts approved",
        ),
        Decision(id="hire-planner", title="Hire a planner", owner="HR", due="2026-12-31"),
    ]
    frame = executive.decisions(
        recs, taken, pd.Timestamp("2026-11-01"), "Push", "Dana", dt.date(2026, 11, 18)
    )
    rows = frame.set_index("id")
    assert frame["id"].tolist() == ["plan-approval", "overload-line-a", "budget-gap-kettles", "hire-planner"]
    assert rows.loc["plan-approval", "status"] == "done" and "Dana" in rows.loc["plan-approval", "decision"]
    assert "Push" in rows.loc["plan-approval", "title"]
    assert (rows.loc["overload-line-a", "status"], rows.loc["overload-line-a", "owner"]) == ("done", "COO")
    assert rows.loc["overload-line-a", "due"] == pd.Timestamp("2026-11-10")
    assert rows.loc["budget-gap-kettles", "status"] == "open"
    assert rows.loc["hire-planner", "source"] == "params"
    shown = executive.decisions_table(frame)._repr_markdown_()
    assert "done: Saturday shifts approved" in shown and "open; options: push; revise" in shown
    assert "Hire a planner" in shown


# ---------------------------------------------------------------- KPIs
def test_revenue_vs_budget_window():
    gaps = pd.DataFrame(
        {
            "month": pd.date_range("2026-11-01", periods=14, freq="MS"),
            "revenue": 90.0,
            "budget_revenue": [100.0] * 13 + [np.nan],
        }
    )
    kpi = executive.revenue_vs_budget(gaps, months=12)
    assert kpi["value"] == pytest.approx(12 * 90 / (12 * 100) - 1) and kpi["status"] == "bad"
    assert "next 12 months" in kpi["detail"]


def test_weeks_of_supply_and_status():
    proj = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-11-01"] * 2 + ["2026-12-01"] * 2 + ["2027-01-01"] * 2),
            "demand": [0.0, 0.0, 100.0, 30.0, 50.0, 80.0],
            "on_hand": [100.0, 30.0, 0, 0, 0, 0],
            "safety_stock": [40.0, 20.0, 0, 0, 0, 0],
        }
    )
    kpi = executive.weeks_of_supply(proj)
    weekly = (130.0 + 130.0) / 2 * 12 / 52
    assert kpi["value"] == pytest.approx(130.0 / weekly)
    assert kpi["target"] == pytest.approx(60.0 / weekly)
    assert kpi["status"] == "good"


def test_capacity_utilisation_statuses():
    load = pd.DataFrame(
        {
            "resource": ["A", "B"],
            "month": [MONTHS[0]] * 2,
            "required_hours": [85.0, 50.0],
            "available_hours": [100.0, 100.0],
            "overtime_hours": [10.0, 10.0],
        }
    )
    assert executive.capacity_utilisation(load)["status"] == "good"
    over = load.assign(required_hours=[115.0, 50.0])
    kpi = executive.capacity_utilisation(over)
    assert kpi["status"] == "bad" and kpi["value"] == pytest.approx(1.15)
    assert "A 2026-11" in kpi["detail"] and "average 82%" in kpi["detail"]


def test_forecast_accuracy_weights_by_volume():
    stats = pd.DataFrame({"unique_id": ["A", "B", "C"], "wape": [0.1, 0.5, np.nan], "bias": [0.0, 0.2, 0.0]})
    demand = pd.DataFrame({"unique_id": ["A", "A", "B"], "consensus": [100.0, 200.0, 100.0]})
    kpi = executive.forecast_accuracy(stats, demand)
    assert kpi["value"] == pytest.approx(1 - (0.1 * 300 + 0.5 * 100) / 400)
    assert "bias +5%" in kpi["detail"]


def test_enps_takes_the_latest_company_score():
    frame = pd.DataFrame(
        {
            "team": ["All", "All", "All", "East"],
            "month": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01", "2026-10-01"]),
            "responses": [40, 42, 3, 20],
            "enps": [12.0, 18.0, np.nan, -5.0],
            "suppressed": [False, False, True, False],
        }
    )
    kpi = executive.enps(frame)
    assert kpi["value"] == 18.0 and kpi["display"] == "+18" and "+6 on prior" in kpi["detail"]
    assert executive.enps(None)["status"] == "info"


def test_tiles_render_every_kpi():
    frame = pd.DataFrame(
        [executive.service_level(0.93, 0.95), executive.enps(None)], columns=executive.KPI_COLUMNS
    )
    md = executive.kpi_tiles(frame)._repr_markdown_()
    assert "#kpi-tiles" in md and "93.0%" in md and "Employee NPS" in md
    assert frame.iloc[0]["status"] == "warn"
