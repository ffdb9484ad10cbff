"""SKU-level supply plans, recomputed independently of the package from the inputs and the params:
stock balances, SKU hours within regular + overtime, lead times and frozen months, lots and minimum
orders, whole units, and every strategy's cost from its plan rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesops.params import SupplyParams
from salesops.supply import lead_time_errors, plan

MONTHS = pd.date_range("2026-11-01", periods=6, freq="MS")


def _case():
    skus = {
        # sku: family, resource, hours/unit, lead, lot, min_order, price, cost, status, monthly demand
        "A1": ("F1", "line", 0.5, 1, 12, 0, 40.0, 20.0, "active", [30, 40, 60, 90, 90, 50]),
        "A2": ("F1", "line", 1.5, 2, 1, 0, 90.0, 50.0, "active", [20, 20, 40, 60, 60, 30]),
        "B1": ("F2", "line", 1.0, 1, 1, 25, 60.0, 30.0, "active", [10, 10, 10, 40, 40, 10]),
        "B2": ("F2", "", 0.0, 3, 10, 0, 25.0, 10.0, "active", [15, 15, 15, 15, 15, 15]),
        "C1": ("F2", "line", 0.8, 1, 1, 0, 30.0, 15.0, "end_of_life", [0, 0, 0, 0, 0, 0]),
    }
    rows, products = [], []
    for sku, (fam, res, hpu, lead, lot, mo, price, cost, status, dem) in skus.items():
        rows += [
            {
                "unique_id": sku,
                "family": fam,
                "ds": m,
                "consensus": float(q),
                "yhat_lo_80": q * 0.8,
                "yhat_hi_80": q * 1.3,
            }
            for m, q in zip(MONTHS, dem)
        ]
        products.append(
            {
                "sku": sku,
                "family": fam,
                "unit_price": price,
                "unit_cost": cost,
                "resource": res or None,
                "hours_per_unit": hpu,
                "lead_time_months": lead,
                "lot_size": lot,
                "min_order": mo,
                "status": status,
            }
        )
    capacity = pd.DataFrame(
        {
            "resource": "line",
            "month": MONTHS,
            "hours": [80.0, 80, 80, 90, 90, 80],
            "overtime_hours": 15.0,
            "cost_per_hour": [40.0, 40, 40, 50, 50, 40],
        }
    )
    inventory = pd.DataFrame({"sku": ["A1", "A2", "B1", "B2", "C1"], "on_hand": [50.0, 45, 20, 40, 7]})
    supply = pd.DataFrame(
        {
            "sku": ["A1", "B1"],
            "month": [MONTHS[0], MONTHS[1]],
            "quantity": [24.0, 10.0],
            "kind": ["production", "purchase"],
        }
    )
    tables = {
        "products": pd.DataFrame(products),
        "capacity": capacity,
        "inventory": inventory,
        "supply": supply,
    }
    return pd.DataFrame(rows), tables


SETTINGS = SupplyParams(fallback_error_cv=0.3, frozen_months=1)


@pytest.fixture(scope="module")
def case():
    demand_plan, tables = _case()
    return demand_plan, tables, plan(demand_plan, tables, SETTINGS)


def _inputs(demand_plan, tables):
    products = tables["products"].set_index("sku")
    demand = demand_plan.pivot(index="unique_id", columns="ds", values="consensus")
    receipts = tables["supply"].pivot_table(index="sku", columns="month", values="quantity", aggfunc="sum")
    receipts = receipts.reindex(index=demand.index, columns=demand.columns).fillna(0.0)
    opening = tables["inventory"].set_index("sku")["on_hand"].reindex(demand.index).fillna(0.0)
    return products, demand, receipts, opening


@pytest.mark.parametrize("strategy", ["chase", "level", "optimal"])
def test_every_strategy_is_executable_at_sku_level(case, strategy):
    demand_plan, tables, sp = case
    products, demand, receipts, opening = _inputs(demand_plan, tables)
    rows = sp.sku_plans[sp.sku_plans["strategy"] == strategy]
    made = rows.pivot(index="unique_id", columns="month", values="production").reindex(demand.index)
    # whole units, lots, minimum orders
    for sku, row in made.iterrows():
        lot, minimum = products.loc[sku, "lot_size"], products.loc[sku, "min_order"]
        for q in row:
            assert q == round(q)
            assert q % lot == 0
            assert q == 0 or q >= minimum
    # lead time and frozen months: nothing new before max(ceil(lead), frozen)
    for sku, row in made.iterrows():
        first = max(math.ceil(products.loc[sku, "lead_time_months"]), SETTINGS.frozen_months)
        assert (row.iloc[:first] == 0).all(), (strategy, sku)
    # SKU hours (own hours per unit) + open production orders within regular + overtime
    cap = tables["capacity"].set_index("month")
    line = products.index[products["resource"] == "line"]
    committed = tables["supply"][tables["supply"]["kind"] == "production"]
    for m in MONTHS:
        hours = sum(made.loc[s, m] * products.loc[s, "hours_per_unit"] for s in line)
        hours += sum(
            r.quantity * products.loc[r.sku, "hours_per_unit"] for r in committed.itertuples() if r.month == m
        )
        assert hours <= cap.loc[m, "hours"] + cap.loc[m, "overtime_hours"] + 1e-6, (strategy, m)
    # stock balance
    net = opening.to_numpy()[:, None] + np.cumsum(
        receipts.to_numpy() + made.to_numpy() - demand.to_numpy(), axis=1
    )
    on_hand = rows.pivot(index="unique_id", columns="month", values="on_hand").reindex(demand.index)
    short = rows.pivot(index="unique_id", columns="month", values="shortage").reindex(demand.index)
    np.testing.assert_allclose(on_hand.to_numpy() - short.to_numpy(), net, atol=1e-6)
    np.testing.assert_allclose(np.minimum(on_hand.to_numpy(), short.to_numpy()), 0, atol=1e-9)


@pytest.mark.parametrize("strategy", ["chase", "level", "optimal"])
def test_each_strategy_cost_recomputed_from_its_rows_and_params(case, strategy):
    demand_plan, tables, sp = case
    products, demand, _receipts, _opening = _inputs(demand_plan, tables)
    rows = sp.sku_plans[sp.sku_plans["strategy"] == strategy]
    s = SETTINGS
    made = rows.pivot(index="unique_id", columns="month", values="production").reindex(demand.index)
    on_hand = rows.pivot(index="unique_id", columns="month", values="on_hand").reindex(demand.index)
    short = rows.pivot(index="unique_id", columns="month", values="shortage").reindex(demand.index)
    cost, price = products["unit_cost"].reindex(demand.index), products["unit_price"].reindex(demand.index)
    production = (made.mul(cost, axis=0)).to_numpy().sum()
    holding = s.holding_cost_rate * on_hand.mul(cost, axis=0).to_numpy().sum()
    backlog = s.backlog_cost_rate * short.mul(price, axis=0).to_numpy().sum()
    lost = s.lost_sale_rate * (short.iloc[:, -1] * price).sum()
    # every overtime hour of the resource-month, at its rate x premium
    cap = tables["capacity"].set_index("month")
    line = products.index[products["resource"] == "line"]
    committed = tables["supply"][tables["supply"]["kind"] == "production"]
    overtime = overtime_hours = 0.0
    for m in MONTHS:
        hours = sum(made.loc[x, m] * products.loc[x, "hours_per_unit"] for x in line)
        hours += sum(
            r.quantity * products.loc[r.sku, "hours_per_unit"] for r in committed.itertuples() if r.month == m
        )
        over = max(0.0, hours - cap.loc[m, "hours"])
        overtime_hours += over
        overtime += over * cap.loc[m, "cost_per_hour"] * s.overtime_premium
    summary = sp.strategy_summary.set_index("strategy").loc[strategy]
    assert summary["production_cost"] == pytest.approx(production)
    assert summary["holding_cost"] == pytest.approx(holding)
    assert summary["backlog_cost"] == pytest.approx(backlog)
    assert summary["lost_sales_cost"] == pytest.approx(lost, abs=1e-6)
    assert summary["overtime_hours"] == pytest.approx(overtime_hours, abs=1e-6)
    assert summary["overtime_cost"] == pytest.approx(overtime, abs=1e-6)
    assert summary["total_cost"] == pytest.approx(production + overtime + holding + backlog + lost)
    # the closing stock is shown beside the spend, not netted into it
    assert summary["closing_stock_value"] == pytest.approx((on_hand.iloc[:, -1] * cost).sum())
    family = sp.production_plan[sp.production_plan["strategy"] == strategy]
    assert family["cost"].sum() == pytest.approx(summary["total_cost"])
    assert family["overtime_hours"].sum() == pytest.approx(overtime_hours, abs=1e-6)


def test_optimal_costs_no_more_than_chase_or_level(case):
    s = case[2].strategy_summary.set_index("strategy")
    objective = s["total_cost"] + s["safety_stock_penalty"]
    assert objective["optimal"] <= objective["chase"] + 1e-6
    assert objective["optimal"] <= objective["level"] + 1e-6


def test_no_safety_stock_without_demand_or_at_end_of_life(case):
    k = case[2].sku_parameters.set_index("unique_id")
    assert k.loc["C1", "safety_stock"] == 0
    assert k.loc["C1", "safety_stock_reason"] != ""
    assert (k.drop(index="C1")["safety_stock"] > 0).all()
    # nothing is made for a SKU with no demand and no safety stock
    rows = case[2].sku_plans
    assert rows.loc[rows["unique_id"] == "C1", "production"].sum() == 0


def test_fill_rate_also_judged_against_the_upper_bound(case):
    s = case[2].strategy_summary.set_index("strategy")
    assert (s["fill_rate_high"] <= s["fill_rate"] + 1e-12).all()


def test_level_makes_up_capped_months():
    months = pd.date_range("2026-11-01", periods=4, freq="MS")
    dp = pd.DataFrame({"unique_id": "A", "family": "F", "ds": months, "consensus": [0.0, 40.0, 40.0, 40.0]})
    products = pd.DataFrame(
        {
            "sku": ["A"],
            "family": ["F"],
            "unit_price": [10.0],
            "unit_cost": [5.0],
            "resource": ["r"],
            "hours_per_unit": [1.0],
            "lead_time_months": [1],
        }
    )
    capacity = pd.DataFrame({"resource": "r", "month": months, "hours": [100.0, 10.0, 100.0, 100.0]})
    sp = plan(dp, {"products": products, "capacity": capacity}, SupplyParams(fallback_error_cv=0))
    level = sp.sku_plans[sp.sku_plans["strategy"] == "level"]["production"].tolist()
    assert level == [0.0, 10.0, 70.0, 40.0]  # month 2 capped at 10 h, made up in month 3


def test_lead_time_errors_sum_errors_over_windows_of_every_origin():
    bt = pd.DataFrame(
        {
            "unique_id": "A",
            "cutoff": np.repeat(pd.to_datetime(["2025-01-01", "2025-04-01"]), 4),
            "step": [1, 2, 3, 4] * 2,
            "y": [10.0, 10, 10, 10, 12, 8, 10, 10],
            "yhat": 10.0,
        }
    )
    out = lead_time_errors(bt, pd.Series({"A": 2.0})).iloc[0]
    windows = [0, 0, 0, 4, -2, 0]  # origin 1: all 0; origin 2: 2-2, -2+0, 0+0 -> 0,-2,0 ... recomputed below
    errors = np.array([[0, 0, 0, 0], [2, -2, 0, 0]], float)
    windows = [e[s : s + 2].sum() for e in errors for s in range(3)]
    assert out["samples"] == 6 and out["origins"] == 2
    assert out["sigma"] == pytest.approx(np.sqrt(np.mean(np.square(windows))))
