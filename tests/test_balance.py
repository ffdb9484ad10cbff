"""Pre-S&OP: finance, gaps, exceptions, scenarios and recommendations, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesops import balance, steps
from salesops.exceptions import ParameterError
from salesops.params import Adjustment, Launch, Scenario, SupplyParams, validate
from salesops.store import StepStore

MONTHS = pd.date_range("2026-11-01", periods=4, freq="MS")
PRICE = {"A1": 10.0, "A2": 20.0, "B1": 50.0}
COST = {"A1": 6.0, "A2": 11.0, "B1": 30.0}
HOURS = {"A1": 0.5, "A2": 1.0, "B1": 2.0}
DEMAND = {"A1": [100, 120, 90, 110], "A2": [40, 50, 60, 50], "B1": [20, 25, 30, 20]}
FAMILY = {"A1": "Alpha", "A2": "Alpha", "B1": "Beta"}


def small_case(line_hours: float = 10_000.0, on_hand: float | None = None):
    """Three SKUs, two families, one resource; ample capacity unless `line_hours` is small."""
    demand_plan = pd.DataFrame(
        [
            {
                "unique_id": sku,
                "family": FAMILY[sku],
                "ds": m,
                "statistical": float(q),
                "pipeline": 0.0,
                "consensus": float(q),
                "yhat_lo_80": float(q),
                "yhat_hi_80": float(q),
            }
            for sku, qs in DEMAND.items()
            for m, q in zip(MONTHS, qs)
        ]
    )
    products = pd.DataFrame(
        {
            "sku": list(PRICE),
            "family": [FAMILY[s] for s in PRICE],
            "unit_price": list(PRICE.values()),
            "unit_cost": list(COST.values()),
            "resource": "Line",
            "hours_per_unit": [HOURS[s] for s in PRICE],
            "lead_time_months": 1.0,
        }
    )
    inventory = pd.DataFrame({"sku": list(PRICE), "on_hand": [on_hand or 0.0] * 3})
    capacity = pd.DataFrame(
        {
            "resource": "Line",
            "month": MONTHS,
            "hours": line_hours,
            "overtime_hours": 0.0,
            "cost_per_hour": 40.0,
        }
    )
    supply = pd.DataFrame(
        {
            "sku": pd.Series([], dtype=str),
            "month": pd.Series([], dtype="datetime64[ns]"),
            "quantity": pd.Series([], dtype=float),
        }
    )
    budget = pd.DataFrame(
        {
            "family": ["Alpha"] * 4 + ["Beta"] * 4,
            "month": list(MONTHS) * 2,
            "revenue": [2500.0] * 4 + [1000.0] * 4,
            "units": [150.0] * 4 + [20.0] * 4,
        }
    )
    tables = {
        "products": products,
        "inventory": inventory,
        "capacity": capacity,
        "supply": supply,
        "budget": budget,
    }
    return demand_plan, tables


def params(scenarios=(), holding: float = 0.02, **supply):
    return validate(
        {
            "period": "2026-11",
            "scenarios": list(scenarios),
            "supply": {"holding_cost_rate": holding, "fallback_error_cv": 0.0, **supply},
        }
    )


def hand_revenue(extra=lambda sku, i: 1.0, price=lambda sku, i: 1.0):
    return sum(DEMAND[s][i] * extra(s, i) * PRICE[s] * price(s, i) for s in DEMAND for i in range(4))


def hand_cogs(extra=lambda sku, i: 1.0):
    return sum(DEMAND[s][i] * extra(s, i) * COST[s] for s in DEMAND for i in range(4))


# ---------------------------------------------------------------- finance
def test_shipments_serve_backlog_first():
    proj = pd.DataFrame(
        {"unique_id": "A", "month": MONTHS[:3], "demand": [10.0, 10.0, 10.0], "shortage": [4.0, 7.0, 0.0]}
    )
    out = balance.shipments(proj)
    # month 1 ships 6 (4 late); month 2: 3 new late on top -> ships 7; month 3 clears 7 + 10 -> ships 17
    assert out["shipped_units"].tolist() == [6.0, 7.0, 17.0]
    assert out["late_units"].tolist() == [4.0, 7.0, 0.0]


def test_finance_by_hand():
    proj = pd.DataFrame(
        {
            "unique_id": ["A1", "A1", "B1"],
            "family": ["Alpha", "Alpha", "Beta"],
            "month": [MONTHS[0], MONTHS[1], MONTHS[0]],
            "demand": [10.0, 10.0, 4.0],
            "shortage": [2.0, 0.0, 0.0],
            "on_hand": [0.0, 5.0, 1.0],
        }
    )
    production = pd.DataFrame(
        {
            "family": ["Alpha", "Alpha", "Beta"],
            "month": [MONTHS[0], MONTHS[1], MONTHS[0]],
            "production": [8.0, 17.0, 5.0],
            "overtime_hours": [0.0, 3.0, 0.0],
        }
    )
    products = pd.DataFrame(
        {
            "sku": ["A1", "B1"],
            "family": ["Alpha", "Beta"],
            "unit_price": [10.0, 50.0],
            "unit_cost": [6.0, 30.0],
            "resource": ["Line", "Line"],
        }
    )
    capacity = pd.DataFrame(
        {"resource": ["Line"], "month": [MONTHS[0]], "hours": [100.0], "cost_per_hour": [40.0]}
    )
    settings = SupplyParams(holding_cost_rate=0.1, overtime_premium=0.5)
    money = balance.finance(
        proj, products, production, settings, capacity, [Adjustment(sku="A1", start="2026-12", pct=10)]
    ).set_index(["family", "month"])
    alpha_dec = money.loc[("Alpha", MONTHS[1])]
    # December: 12 shipped (10 + 2 backlog) at 11.00 = 132; cogs 72; holding 5 x 6 x 0.1 = 3; overtime 3 x 40 x 0.5 = 60
    assert alpha_dec["revenue"] == pytest.approx(132.0)
    assert alpha_dec["cogs"] == pytest.approx(72.0)
    assert alpha_dec["holding_cost"] == pytest.approx(3.0)
    assert alpha_dec["overtime_cost"] == pytest.approx(60.0)
    assert alpha_dec["margin"] == pytest.approx(132 - 72 - 3 - 60)
    beta = money.loc[("Beta", MONTHS[0])]
    assert beta["revenue"] == 200.0 and beta["margin"] == pytest.approx(200 - 120 - 3.0)


# ---------------------------------------------------------------- scenarios, through salesops.supply.plan
@pytest.fixture(scope="module")
def scenario_results():
    scenarios = [
        {"name": "push", "demand": [{"family": "Alpha", "from": "2027-01", "pct": 15}]},
        {"name": "price", "price": [{"sku": "B1", "from": "2027-02", "pct": 10}]},
        {
            "name": "launch",
            "launches": [
                {
                    "sku": "N1",
                    "family": "Beta",
                    "from": "2027-01",
                    "units_per_month": 10,
                    "unit_price": 80,
                    "unit_cost": 50,
                    "resource": "Line",
                    "hours_per_unit": 1.0,
                }
            ],
        },
        {"name": "cut", "capacity": [{"resource": "Line", "from": "2026-12", "pct": -50}]},
    ]
    demand_plan, tables = small_case()
    # the first month is frozen and lead times are 1 month: stock for month 1 is on hand
    tables["inventory"]["on_hand"] = [float(DEMAND[s][0]) for s in tables["inventory"]["sku"]]
    p = params(scenarios)
    return balance.run_scenarios(demand_plan, tables, p), p


def test_baseline_by_hand(scenario_results):
    results, _ = scenario_results
    money = results["baseline"].money
    assert money["revenue"].sum() == pytest.approx(hand_revenue())
    assert money["cogs"].sum() == pytest.approx(hand_cogs())
    assert money["margin"].sum() == pytest.approx(hand_revenue() - hand_cogs())  # no holding, no overtime


def test_demand_push_by_hand(scenario_results):
    results, p = scenario_results
    lift = lambda sku, i: 1.15 if FAMILY[sku] == "Alpha" and i >= 2 else 1.0  # from 2027-01
    money = results["push"].money
    assert money["revenue"].sum() == pytest.approx(hand_revenue(extra=lift))
    # whole units: from month 2 each SKU makes its cumulative demand rounded up (a backlogged half unit
    # costs more than a held one), so the fractions of 1.15 x demand sit in stock at holding cost
    held = sum(
        COST[s] * (math.ceil(c - 1e-9) - c)
        for s in DEMAND
        for c in np.cumsum([DEMAND[s][i] * lift(s, i) for i in range(1, 4)])
    )
    assert held == pytest.approx(6.0 * 0.5 + 11.0 * 0.5)  # A1 half a unit in January, A2 in February
    expected = hand_revenue(extra=lift) - hand_cogs(extra=lift) - p.supply.holding_cost_rate * held
    assert money["margin"].sum() == pytest.approx(expected)
    assert results["push"].demand_plan["consensus"].sum() == pytest.approx(
        sum(DEMAND[s][i] * lift(s, i) for s in DEMAND for i in range(4))
    )


def test_price_change_by_hand(scenario_results):
    results, _ = scenario_results
    rise = lambda sku, i: 1.10 if sku == "B1" and i >= 3 else 1.0  # from 2027-02
    assert results["price"].money["revenue"].sum() == pytest.approx(hand_revenue(price=rise))
    assert results["price"].money["cogs"].sum() == pytest.approx(hand_cogs())


def test_launch_by_hand(scenario_results):
    results, _ = scenario_results
    months = 2  # 2027-01 and 2027-02
    money = results["launch"].money
    assert money["revenue"].sum() == pytest.approx(hand_revenue() + 10 * 80 * months)
    assert money["cogs"].sum() == pytest.approx(hand_cogs() + 10 * 50 * months)
    assert "N1" in set(results["launch"].tables["products"]["sku"])
    assert "N1" not in set(results["baseline"].tables["products"]["sku"])  # the baseline is untouched


def test_capacity_cut_utilisation_by_hand(scenario_results):
    results, p = scenario_results
    comparison = balance.compare(results, p.supply.service_level).set_index("scenario")
    required = [sum(DEMAND[s][i] * HOURS[s] for s in DEMAND) for i in range(4)]
    hours = [10_000.0] + [5_000.0] * 3
    assert comparison.loc["cut", "peak_utilisation"] == pytest.approx(
        max(r / h for r, h in zip(required, hours))
    )
    assert comparison.loc["cut", "utilisation"] == pytest.approx(sum(required) / sum(hours))
    assert comparison.loc["baseline", "utilisation"] == pytest.approx(sum(required) / 40_000.0)


def test_comparison_against_baseline(scenario_results):
    results, p = scenario_results
    comparison = balance.compare(results, p.supply.service_level)
    assert comparison["scenario"].tolist() == ["baseline", "push", "price", "launch", "cut"]
    base = comparison.iloc[0]
    assert (comparison["revenue_vs_baseline"] == comparison["revenue"] - base["revenue"]).all()
    assert (comparison["margin_vs_baseline"] == comparison["margin"] - base["margin"]).all()
    # ample capacity and stock for the frozen first month: everyone served in time (in every family),
    # so the best margin wins (push adds the most margin here)
    margins = {n: hand_revenue() - hand_cogs() for n in results}
    rows = comparison.set_index("scenario")
    assert rows["fill_rate"].eq(1.0).all()
    assert rows["lowest_family_fill_rate"].eq(1.0).all()
    assert rows["late_units"].eq(0.0).all() and rows["lost_units"].eq(0.0).all()
    assert rows["capacity_feasible"].all() and rows["meets_service"].all()
    assert (
        comparison.loc[comparison["recommended"], "scenario"].item()
        == comparison.sort_values("margin").iloc[-1]["scenario"]
    )
    assert margins  # the table has every scenario


def test_shortage_scenario_fill_rate_matches_definition():
    demand_plan, tables = small_case(line_hours=60.0)  # far less than the ~170 h needed
    p = params()
    result = balance.run_scenarios(demand_plan, tables, p)["baseline"]
    proj = result.supply.inventory_projection
    late = np.minimum(proj["demand"], proj["shortage"]).sum()
    summary = balance.summarise(result)
    assert summary["fill_rate"] == pytest.approx(1 - late / proj["demand"].sum())
    assert summary["fill_rate"] < 0.95
    shipped = result.money["shipped_units"].sum()
    ending_backlog = proj[proj["month"] == proj["month"].max()]["shortage"].sum()
    assert shipped == pytest.approx(proj["demand"].sum() - ending_backlog)  # lost = backlog left at the end


def test_unknown_family_in_scenario_is_named():
    demand_plan, tables = small_case()
    p = params([{"name": "typo", "demand": [{"family": "Alpah", "pct": 10}]}])
    with pytest.raises(ParameterError, match=r"typo.*demand\[0\]\.family = 'Alpah'.*Alpha"):
        balance.run_scenarios(demand_plan, tables, p)


def test_review_reports_scenarios_the_data_cannot_run():
    demand_plan, tables = small_case()
    p = params(
        [
            {
                "name": "other data",
                "description": "a family of another company",
                "demand": [{"family": "Gamma", "pct": 10}],
            }
        ]
    )
    pre = balance.review(demand_plan, tables, p)
    rows = pre.scenarios.set_index("scenario")
    assert rows["ran"].tolist() == [True, False]
    assert "Gamma" in rows.loc["other data", "verdict"] and np.isnan(rows.loc["other data", "revenue"])
    assert pre.recommendation.scenario == "baseline"
    assert "other data" in pre.skipped and "could not run" in pre.headline()
    assert "other data" not in balance.comparison_table(pre.scenarios)._repr_markdown_()
    assert "Not run" in balance.scenario_notes(pre.scenarios)[0]


def test_changes_apply_from_until():
    demand_plan, tables = small_case()
    s = Scenario.model_validate(
        {"name": "promo", "demand": [{"family": "Alpha", "from": "2026-12", "until": "2027-01", "pct": 50}]}
    )
    dp, _, _ = balance.apply_scenario(s, demand_plan, tables)
    a1 = dp.loc[dp["unique_id"] == "A1", "consensus"].tolist()
    assert a1 == [100.0, 180.0, 135.0, 110.0]


def test_scenario_supply_cannot_plan_is_reported_not_fatal():
    demand_plan, tables = small_case()
    tables["supply"] = pd.DataFrame(
        {"sku": ["A1"], "month": [MONTHS[1]], "quantity": [50.0], "kind": ["production"]}
    )
    p = params(
        [
            {
                "name": "closure",
                "description": "line closed in December",
                "capacity": [{"resource": "Line", "from": "2026-12", "until": "2026-12", "pct": -100}],
            }
        ]
    )
    pre = balance.review(demand_plan, tables, p)
    verdict = pre.scenarios.set_index("scenario").loc["closure", "verdict"]
    assert verdict.startswith("Not run: supply planning cannot plan it") and "Line" in verdict
    assert pre.recommendation.scenario == "baseline"


def test_closed_month_counts_as_overload_not_utilisation():
    demand_plan, tables = small_case()
    p = params([{"name": "closed", "capacity": [{"resource": "Line", "from": "2027-02", "pct": -100}]}])
    results = balance.run_scenarios(demand_plan, tables, p)
    row = balance.summarise(results["closed"])
    required = [sum(DEMAND[s][i] * HOURS[s] for s in DEMAND) for i in range(4)]
    assert row["peak_utilisation"] == pytest.approx(max(required[:3]) / 10_000.0)
    assert row["overload_hours"] == pytest.approx(required[3])  # no regular or overtime hours in February


def test_scenario_named_baseline_is_refused():
    demand_plan, tables = small_case()
    with pytest.raises(ParameterError, match="baseline"):
        balance.run_scenarios(demand_plan, tables, params([{"name": "baseline"}]))


def test_apply_scenario_leaves_inputs_alone():
    demand_plan, tables = small_case()
    before = demand_plan.copy(), tables["capacity"].copy()
    s = Scenario(
        name="x",
        demand=[Adjustment(pct=20)],
        capacity=[Adjustment(resource="Line", pct=-10)],
        launches=[
            Launch(sku="N", family="Beta", start="2026-12", units_per_month=1, unit_price=1, unit_cost=1)
        ],
    )
    dp, changed, _ = balance.apply_scenario(s, demand_plan, tables)
    pd.testing.assert_frame_equal(demand_plan, before[0])
    pd.testing.assert_frame_equal(tables["capacity"], before[1])
    assert changed["capacity"]["hours"].tolist() == [9_000.0] * 4
    assert dp.loc[dp["unique_id"] == "A1", "consensus"].tolist() == [q * 1.2 for q in DEMAND["A1"]]


# ---------------------------------------------------------------- recommendation rule
def test_recommend_best_margin_that_meets_target():
    frame = pd.DataFrame(
        {
            "scenario": ["baseline", "rich", "safe", "meh"],
            "margin": [10.0, 30.0, 20.0, 15.0],
            "fill_rate": [0.96, 0.90, 0.97, 0.99],
            "revenue": [100.0, 140.0, 120.0, 110.0],
        }
    )
    rec = balance.recommend(frame, 0.95)
    assert rec.scenario == "safe"
    assert any("rich" in r and "misses" in r for r in rec.reasons)
    assert "highest margin" in rec.reasons[0]


def test_recommend_requires_capacity_and_every_family_to_meet_service():
    # "rich" needs hours the resources do not have; "lopsided" serves the total but not Beta
    frame = pd.DataFrame(
        {
            "scenario": ["baseline", "rich", "lopsided", "safe"],
            "margin": [10.0, 40.0, 30.0, 20.0],
            "fill_rate": [0.96, 0.97, 0.96, 0.97],
            "revenue": [100.0, 150.0, 140.0, 120.0],
            "hours_beyond_capacity": [0.0, 203.0, 0.0, 0.0],
            "capacity_feasible": [True, False, True, True],
            "lowest_family": ["Alpha", "Alpha", "Beta", "Alpha"],
            "lowest_family_fill_rate": [0.955, 0.96, 0.80, 0.96],
            "lost_units": [0.0, 98.0, 0.0, 0.0],
        }
    )
    frame["meets_service"] = (
        frame["capacity_feasible"] & (frame["fill_rate"] >= 0.95) & (frame["lowest_family_fill_rate"] >= 0.95)
    )
    rec = balance.recommend(frame, 0.95)
    assert rec.scenario == "safe"
    assert any("rich" in r and "203 hours beyond regular plus overtime" in r for r in rec.reasons)
    assert any("lopsided" in r and "Beta misses the target (80.0%)" in r for r in rec.reasons)
    assert "every family" in rec.rule and "regular plus overtime" in rec.rule


def test_recommend_falls_back_to_best_service():
    frame = pd.DataFrame(
        {
            "scenario": ["baseline", "a", "b"],
            "margin": [10.0, 30.0, 5.0],
            "fill_rate": [0.80, 0.85, 0.90],
            "revenue": [1.0, 1.0, 1.0],
        }
    )
    rec = balance.recommend(frame, 0.95)
    assert rec.scenario == "b" and rec.reasons[0].startswith("No scenario meets")


# ---------------------------------------------------------------- gaps and exceptions
def fake_supply():
    load = pd.DataFrame(
        {
            "resource": ["Line", "Line"],
            "month": MONTHS[:2],
            "required_hours": [120.0, 90.0],
            "available_hours": [100.0, 100.0],
            "overtime_hours": [10.0, 10.0],
            "utilisation": [1.2, 0.9],
        }
    )
    proj = pd.DataFrame(
        {
            "unique_id": ["A1", "A1", "B1", "B1"],
            "family": ["Alpha", "Alpha", "Beta", "Beta"],
            "month": list(MONTHS[:2]) * 2,
            "demand": [10.0, 10.0, 5.0, 5.0],
            "shortage": [3.0, 0.0, 0.0, 0.0],
            "on_hand": [0.0, 0.0, 50.0, 60.0],
            "excess": [0.0, 0.0, 40.0, 55.0],
            "weeks_of_supply": [0.0, 0.0, 40.0, 50.0],
        }
    )
    return {
        "capacity_load": load,
        "production_plan": pd.DataFrame(),
        "inventory_projection": proj,
        "strategy_summary": pd.DataFrame(),
    }


def test_exceptions_ranked_by_value_at_risk():
    demand_plan, tables = small_case()
    products = tables["products"]
    gap = pd.DataFrame(
        {
            "family": ["Alpha", "Beta"],
            "month": [MONTHS[0]] * 2,
            "revenue": [900.0, 1000.0],
            "budget_revenue": [2000.0, 1000.0],
            "demand_revenue": [1000.0, 1000.0],
        }
    )
    gap["revenue_gap"] = gap["revenue"] - gap["budget_revenue"]
    stats = pd.DataFrame({"unique_id": ["A1", "A2", "B1"], "bias": [0.3, 0.1, 0.05]})
    ex = balance.exceptions(gap, fake_supply(), products, demand_plan, stats, bias_limit=0.1)
    got = {(r.kind, r.subject): r.value_at_risk for r in ex.itertuples()}
    # overload: 10 h beyond 100 + 10, at the line's revenue per hour over the plan
    rev = sum(DEMAND[s][i] * PRICE[s] for s in DEMAND for i in range(4))
    hrs = sum(DEMAND[s][i] * HOURS[s] for s in DEMAND for i in range(4))
    assert got[("overload", "Line")] == pytest.approx(10 * rev / hrs)
    assert got[("shortage", "Alpha")] == pytest.approx(3 * 10.0)
    assert got[("excess", "Beta")] == pytest.approx(55 * 30.0)  # the peak month, at cost
    assert got[("budget_gap", "Alpha")] == pytest.approx(1100.0)
    assert ("budget_gap", "Beta") not in got
    alpha_volume = {"A1": sum(DEMAND["A1"]), "A2": sum(DEMAND["A2"])}
    alpha_bias = (0.3 * alpha_volume["A1"] + 0.1 * alpha_volume["A2"]) / sum(alpha_volume.values())
    assert got[("bias", "Alpha")] == pytest.approx(alpha_bias * 1000.0)
    assert ("bias", "Beta") not in got  # 5 % is within the 10 % limit
    assert ex["value_at_risk"].is_monotonic_decreasing
    assert ex.columns.tolist() == ["kind", "subject", "month", "value_at_risk", "detail"]


def test_budget_tolerance_drops_small_gaps():
    gap = pd.DataFrame(
        {
            "family": ["Alpha", "Beta"],
            "month": [MONTHS[0]] * 2,
            "revenue": [97.0, 90.0],
            "budget_revenue": [100.0, 100.0],
        }
    )
    gap["revenue_gap"] = gap["revenue"] - gap["budget_revenue"]
    rows = balance.exception_list._budget_gaps(gap, tolerance=0.05)
    assert [r["subject"] for r in rows] == ["Beta"]


def test_gaps_join_budget_by_family_and_month():
    money = pd.DataFrame({"family": ["Alpha", "Alpha"], "month": MONTHS[:2], "revenue": [1500.0, 2500.0]})
    budget = pd.DataFrame(
        {
            "family": ["Alpha", "Alpha"],
            "month": ["2026-11-01", "2026-11-15"],
            "revenue": [1000.0, 1000.0],
            "units": [10.0, 10.0],
        }
    )
    g = balance.gaps(money, budget)
    assert g["budget_revenue"].tolist()[0] == 2000.0 and np.isnan(g["budget_revenue"].tolist()[1])
    assert g["revenue_gap"].tolist()[0] == -500.0
    assert g.columns.tolist() == balance.GAP_COLUMNS


def test_recommendations_from_exceptions():
    ex = pd.DataFrame(
        {
            "kind": ["budget_gap"] * 4 + ["overload"],
            "subject": ["F1", "F2", "F3", "F4", "Line A"],
            "month": [MONTHS[0]] * 4 + [MONTHS[1]],
            "value_at_risk": [900.0, 800.0, 700.0, 600.0, 100.0],
            "detail": "",
        }
    )
    recs = balance.recommendations(ex, MONTHS[0], top=5, due_days=14, per_kind=3)
    assert recs["id"].tolist() == ["budget-gap-f1", "budget-gap-f2", "budget-gap-f3", "overload-line-a"]
    overload = recs.set_index("id").loc["overload-line-a"]
    assert overload["owner"] == "Head of Operations"
    assert overload["due"] == pd.Timestamp("2026-11-08")  # hits next month: due in a week
    assert recs.set_index("id").loc["budget-gap-f1", "due"] == pd.Timestamp("2026-11-15")
    assert all(";" in o for o in recs["options"])


# ---------------------------------------------------------------- the step: run(ctx) and its products
def step_context(tmp_path, budget: bool = True, error_stats: bool = True):
    """A pre-S&OP context over the small case's products, written as steps 1-3 would write them."""
    store = StepStore(tmp_path)
    demand_plan, tables = small_case()
    for name, frame in tables.items():
        if budget or name != "budget":
            store.write("data_collection", name, frame)
    store.write("demand_planning", "demand_plan", demand_plan)
    if error_stats:
        store.write(
            "demand_planning",
            "error_stats",
            pd.DataFrame({"unique_id": ["A1", "A2", "B1"], "sigma": 0.0, "bias": [0.3, 0.3, 0.0]}),
        )
    p = validate(
        {
            "period": "2026-11",
            "run_dir": str(tmp_path),
            "out": str(tmp_path / "out"),
            "scenarios": [{"name": "push", "demand": [{"family": "Alpha", "from": "2027-01", "pct": 15}]}],
            "supply": {"fallback_error_cv": 0.0},
        }
    )
    return steps.context("pre_sop", p), demand_plan, tables, p


def test_run_products_are_the_declared_products(tmp_path):
    ctx, *_ = step_context(tmp_path)
    pre = balance.run(ctx)
    assert isinstance(pre, steps.StepResult)
    assert tuple(pre.products) == steps.get("pre_sop").products
    ctx.save(pre)
    store = StepStore(tmp_path)
    for name, frame in pre.products.items():
        # Parquet may store timestamps at another resolution; the values must match
        pd.testing.assert_frame_equal(store.read("pre_sop", name), frame, check_dtype=False)


def test_run_is_review_on_the_context_inputs(tmp_path):
    ctx, demand_plan, tables, p = step_context(tmp_path)
    stats = ctx.read("demand_planning", "error_stats")
    by_hand = balance.review(demand_plan, tables, p, stats)
    pre = balance.run(ctx)
    for name, frame in by_hand.products.items():
        pd.testing.assert_frame_equal(pre.products[name], frame, check_dtype=False)
    assert ("bias", "Alpha") in set(zip(pre.exceptions["kind"], pre.exceptions["subject"]))


def test_run_without_budget_or_error_stats(tmp_path):
    ctx, *_ = step_context(tmp_path, budget=False, error_stats=False)
    pre = balance.run(ctx)
    assert pre.gaps["budget_revenue"].isna().all()
    assert not set(pre.exceptions["kind"]) & {"budget_gap", "bias"}
    assert set(pre.products) == set(steps.get("pre_sop").products)
