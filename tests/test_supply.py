"""Supply planning: formulas on hand-computed cases, strategies by their definitions, the cost-optimal
plan against a brute-force search over whole units, and error messages that name what to fix.

Most cases set lead time 0 and no frozen months (`NOW`) so that production may start in the first month;
the lead-time cases say so."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from salesops.exceptions import DataError, PlanError
from salesops.params import SupplyParams
from salesops.supply import (
    excess,
    fill_rate,
    forward_demand,
    lead_time_errors,
    net_positions,
    net_requirements,
    overload_drivers,
    plan,
    risk_by_sku,
    safety_stock,
    shortages,
    weeks_of_supply,
)

MONTHS = pd.date_range("2026-11-01", periods=3, freq="MS")
NO_SAFETY = SupplyParams(fallback_error_cv=0.0)
NOW = SupplyParams(fallback_error_cv=0.0, frozen_months=0)  # with lead time 0: production from month 1


def demand_plan(demand: dict[str, list[float]], family: dict[str, str] | None = None, months=MONTHS, **extra):
    rows = []
    for sku, units in demand.items():
        for i, q in enumerate(units):
            row = {"unique_id": sku, "family": (family or {}).get(sku, "F"), "ds": months[i], "consensus": q}
            row.update({k: v[sku][i] for k, v in extra.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def products(rows: list[dict]) -> pd.DataFrame:
    base = {
        "family": "F",
        "unit_price": 10.0,
        "unit_cost": 6.0,
        "resource": "line",
        "hours_per_unit": 1.0,
        "lead_time_months": 1.0,
        "status": "active",
    }
    return pd.DataFrame([{**base, **r} for r in rows])


def capacity(hours, overtime=None, resource="line", rate=None, months=MONTHS) -> pd.DataFrame:
    frame = pd.DataFrame({"resource": resource, "month": months[: len(hours)], "hours": hours})
    if overtime is not None:
        frame["overtime_hours"] = overtime
    if rate is not None:
        frame["cost_per_hour"] = rate
    return frame


def tables(prods, cap, inventory=None, supply=None) -> dict:
    out = {"products": prods, "capacity": cap}
    if inventory is not None:
        out["inventory"] = inventory
    if supply is not None:
        out["supply"] = supply
    return out


def strategy(sp, name: str, column: str = "production") -> list[float]:
    rows = sp.production_plan[sp.production_plan["strategy"] == name].sort_values(["family", "month"])
    return [round(v, 6) for v in rows[column]]


# ---------------------------------------------------------------- formulas
def test_safety_stock_is_z_sigma_sqrt_lead_time():
    assert safety_stock(10.0, 4.0, 0.95) == pytest.approx(1.6448536 * 10 * 2, rel=1e-6)
    assert safety_stock(3.0, 1.0, 0.5) == pytest.approx(0.0)
    assert safety_stock([2.0, 5.0], [9.0, 0.25], 0.8413447) == pytest.approx([6.0, 2.5], rel=1e-5)


def test_fill_rate_counts_the_part_of_each_month_served_late():
    # month 2: 4 of 10 late; month 3: backlog 12 > demand 10, so all 10 late
    assert fill_rate([10, 10, 10], [0, 4, 12]) == pytest.approx(1 - 14 / 30)
    assert fill_rate([0, 0], [0, 0]) == 1.0


def test_forward_demand_weeks_of_supply_and_net_positions():
    assert forward_demand(np.array([[3.0, 6.0, 9.0, 12.0]])).tolist() == [[9.0, 10.5, 12.0, 12.0]]
    assert weeks_of_supply(60.0, 26.0) == pytest.approx(60 / (26 * 12 / 52))
    assert np.isnan(weeks_of_supply(5.0, 0.0))
    assert net_positions(5.0, [0, 10], [3, 0], [6, 20]).tolist() == [2.0, -8.0]


def test_net_requirements_do_not_pool_stock_across_skus():
    # SKU a: 30 in stock, needs nothing; SKU b: 0 in stock, needs 5 a month; both keep a safety stock of 2
    a, c = net_requirements(
        np.array([30.0, 0.0]), np.zeros((2, 2)), np.array([[5.0, 5.0], [5.0, 5.0]]), np.array([2.0, 2.0])
    )
    assert a.tolist() == [[0.0, 0.0], [5.0, 10.0]]
    assert c.tolist() == [[0.0, 0.0], [7.0, 12.0]]


def test_capacity_load_is_demand_times_hours_against_regular_hours():
    dp = demand_plan({"A": [10, 20, 30], "B": [5, 5, 5]})
    prods = products([{"sku": "A", "hours_per_unit": 2.0}, {"sku": "B", "hours_per_unit": 4.0}])
    sp = plan(dp, tables(prods, capacity([50, 50, 50], overtime=[10, 10, 10])), NO_SAFETY)
    load = sp.capacity_load
    assert load["required_hours"].tolist() == [40.0, 60.0, 80.0]
    assert load["available_hours"].tolist() == [50.0, 50.0, 50.0]
    assert load["overtime_hours"].tolist() == [10.0, 10.0, 10.0]
    assert load["utilisation"].tolist() == pytest.approx([0.8, 1.2, 1.6])
    assert load["status"].tolist() == ["ok", "needs overtime", "over capacity"]
    drivers = overload_drivers(sp, by="unique_id", top=1)
    assert drivers["month"].tolist() == [MONTHS[1], MONTHS[2]]
    assert drivers["unique_id"].tolist() == ["A", "A"]
    assert drivers["share"].tolist() == pytest.approx([40 / 60, 60 / 80])


def partial_backtest(sku: str, seed: int, origins: int = 6) -> pd.DataFrame:
    """Demand planning's backtest shape: origins 1..6 months back, each keeping the months with actuals
    (the origin k months back has steps 1..k)."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(1, origins + 1):
        cutoff = pd.Timestamp("2026-10-01") - pd.DateOffset(months=k)
        for step in range(1, k + 1):
            rows.append(
                {
                    "unique_id": sku,
                    "cutoff": cutoff,
                    "step": step,
                    "y": float(rng.integers(20, 60)),
                    "yhat": 40.0,
                }
            )
    return pd.DataFrame(rows)


def windows_by_hand(bt: pd.DataFrame, lead: int) -> list[float]:
    """Every sum of `lead` consecutive errors within one origin."""
    out = []
    for _, g in bt.groupby("cutoff"):
        e = (g.sort_values("step")["y"] - g.sort_values("step")["yhat"]).to_numpy()
        out += [e[i : i + lead].sum() for i in range(len(e) - lead + 1)]
    return out


def test_six_partial_origins_give_21_15_10_lead_time_errors():
    # origin k has k steps: windows of length L per origin = max(k - L + 1, 0)
    bt = pd.concat([partial_backtest(s, i) for i, s in enumerate("ABCD")], ignore_index=True)
    out = lead_time_errors(bt, pd.Series({"A": 1.0, "B": 2.0, "C": 2.5, "D": 4.0})).set_index("unique_id")
    assert out["samples"].tolist() == [21, 15, 10, 6]  # L = 1, 2, ceil(2.5) = 3, 4
    assert out["origins"].tolist() == [6, 5, 4, 3]
    for sku, lead in (("A", 1), ("B", 2), ("C", 3), ("D", 4)):
        errors = windows_by_hand(bt[bt["unique_id"] == sku], lead)
        assert out.loc[sku, "sigma"] == pytest.approx(np.sqrt(np.mean(np.square(errors))))


def test_safety_stock_from_the_backtest_else_error_stats_then_interval_then_rule():
    z95 = norm.ppf(0.95)
    dp = demand_plan(
        {
            "A": [10, 10, 10],
            "B": [20, 20, 20],
            "C": [40, 40, 40],
            "D": [30, 30, 30],
            "E": [5, 5, 5],
            "F": [0, 0, 0],
        },
        yhat_lo_80={
            "A": [0] * 3,
            "B": [20 - norm.ppf(0.9) * 6] * 3,
            "C": [np.nan] * 3,
            "D": [np.nan] * 3,
            "E": [np.nan] * 3,
            "F": [np.nan] * 3,
        },
        yhat_hi_80={
            "A": [0] * 3,
            "B": [20 + norm.ppf(0.9) * 6] * 3,
            "C": [np.nan] * 3,
            "D": [np.nan] * 3,
            "E": [np.nan] * 3,
            "F": [np.nan] * 3,
        },
    )
    prods = products(
        [
            {"sku": "A", "lead_time_months": 4.0},
            {"sku": "B", "lead_time_months": 1.0},
            {"sku": "C", "lead_time_months": np.nan},
            {"sku": "D", "lead_time_months": 3.0},
            {"sku": "E", "status": "end_of_life"},
            {"sku": "F"},
        ]
    )
    stats = pd.DataFrame({"unique_id": ["A", "D"], "sigma": [5.0, 7.0]})
    # A (lead 4) has only 6 lead-time errors (< 8): error_stats x sqrt(4); D (lead 3) has 10: the backtest
    bt = pd.concat([partial_backtest("A", 1), partial_backtest("D", 2)], ignore_index=True)
    settings = SupplyParams(fallback_error_cv=0.25, default_lead_time_months=9.0)
    sp = plan(dp, tables(prods, capacity([1000] * 3)), settings, error_stats=stats, backtest=bt)
    ss = sp.sku_parameters.set_index("unique_id")
    assert ss.loc["A", "safety_stock"] == pytest.approx(z95 * 5 * 2)  # error_stats sigma, lead time 4
    assert ss.loc["B", "safety_stock"] == pytest.approx(z95 * 6 * 1)  # interval half-width / 1.2816
    assert ss.loc["C", "safety_stock"] == pytest.approx(z95 * 0.25 * 40 * 3)  # 25% of mean demand, lead 9
    d_errors = windows_by_hand(bt[bt["unique_id"] == "D"], 3)
    assert len(d_errors) == 10
    assert ss.loc["D", "safety_stock"] == pytest.approx(z95 * np.sqrt(np.mean(np.square(d_errors))))
    assert ss.loc[["A", "D"], "error_samples"].tolist() == [6, 10]
    assert ss.loc["A", "sigma_source"].startswith("error_stats")
    assert ss.loc["B", "sigma_source"].startswith("80% interval")
    assert ss.loc["C", "sigma_source"].startswith("25% of mean demand")
    assert ss.loc["D", "sigma_source"] == "backtest over the lead time"
    # none at end of life or without planned demand
    assert ss.loc[["E", "F"], "safety_stock"].tolist() == [0.0, 0.0]
    assert ss.loc["E", "safety_stock_reason"] == "status end_of_life"
    assert ss.loc["F", "safety_stock_reason"] == "no planned demand"
    assert any("lead time" in n for n in sp.notes)


def test_projection_sums_locations_and_values_shortage_and_excess():
    # ample capacity makes chase = need; a SKU with stock far above need shows excess
    dp = demand_plan({"A": [10, 10, 10], "B": [2, 2, 2]})
    prods = products(
        [
            {"sku": "A", "unit_cost": 6.0, "unit_price": 10.0, "lead_time_months": 0.0},
            {"sku": "B", "unit_cost": 5.0, "unit_price": 9.0, "family": "G", "lead_time_months": 0.0},
        ]
    )
    inventory = pd.DataFrame(
        {"sku": ["A", "A", "B"], "on_hand": [3.0, 2.0, 40.0], "location": ["x", "y", "x"]}
    )
    settings = SupplyParams(fallback_error_cv=0.0, excess_cover_months=2, strategy="chase", frozen_months=0)
    sp = plan(dp, tables(prods, capacity([1000] * 3), inventory), settings)
    p = sp.inventory_projection.set_index(["unique_id", "month"])
    # A: 5 on hand, chase makes 5 then 10, 10 -> on hand 0
    assert p.loc["A", "production"].tolist() == [5.0, 10.0, 10.0]
    assert p.loc["A", "on_hand"].tolist() == [0.0, 0.0, 0.0]
    # B: 40 - 2 = 38, 36, 34; cover = 2 months x forward demand 2 = 4 -> excess 34, 32, 30 at cost 5
    assert p.loc["B", "on_hand"].tolist() == [38.0, 36.0, 34.0]
    assert p.loc["B", "excess"].tolist() == [34.0, 32.0, 30.0]
    assert p.loc["B", "excess_value"].tolist() == [170.0, 160.0, 150.0]
    assert p.loc["B", "weeks_of_supply"].tolist() == pytest.approx(
        [38 / (2 * 12 / 52), 36 / (2 * 12 / 52), 34 / (2 * 12 / 52)]
    )
    top = excess(sp)
    assert top.iloc[0][["unique_id", "excess", "excess_value"]].tolist() == ["B", 34.0, 170.0]


def test_shortages_when_capacity_is_short():
    # 10 hours a month, no overtime, demand 15 a month: every strategy is 5 short a month
    dp = demand_plan({"A": [15, 15, 15]})
    sp = plan(dp, tables(products([{"sku": "A", "lead_time_months": 0.0}]), capacity([10, 10, 10])), NOW)
    p = sp.inventory_projection
    assert p["shortage"].tolist() == [5.0, 10.0, 15.0]
    assert p["shortage_value"].tolist() == [50.0, 100.0, 150.0]
    assert shortages(sp)["shortage"].tolist() == [5.0, 10.0, 15.0]
    risk = risk_by_sku(sp)
    # backlog is served first: 5, 10 and 15 of each month's 15 units are late
    assert risk.loc[0, "fill_rate"] == pytest.approx(1 - 30 / 45)
    summary = sp.strategy_summary.set_index("strategy")
    assert summary.loc["optimal", "fill_rate"] == pytest.approx(1 - 30 / 45)
    assert summary.loc["optimal", "ending_backlog"] == 15.0
    assert summary.loc["optimal", "late_units"] == 30.0
    assert summary.loc["optimal", "lost_units"] == 15.0  # the backlog left at the end
    assert summary.loc["optimal", "lost_sales_cost"] == pytest.approx(NOW.lost_sale_rate * 10.0 * 15)
    family = sp.family_service.set_index(["strategy", "family"])
    assert family.loc[("optimal", "F"), "fill_rate"] == pytest.approx(1 - 30 / 45)


def test_open_supply_past_due_and_before_period():
    # lead time 1 and one frozen month: only the firm receipts land in 2026-11
    dp = demand_plan({"A": [10, 10, 10]}, months=pd.date_range("2026-10-01", periods=3, freq="MS"))
    supply = pd.DataFrame(
        {
            "sku": ["A", "A"],
            "month": ["2026-09", "2026-12"],
            "quantity": [4.0, 7.0],
            "kind": ["purchase", "purchase"],
        }
    )
    sp = plan(
        dp,
        tables(
            products([{"sku": "A"}]),
            capacity([100] * 4, months=pd.date_range("2026-10-01", periods=4, freq="MS")),
            supply=supply,
        ),
        NO_SAFETY,
        period="2026-11",
    )
    p = sp.inventory_projection
    assert p["month"].tolist() == list(pd.date_range("2026-11-01", periods=2, freq="MS"))
    assert p["supply"].tolist() == [4.0, 7.0]  # the September line lands in the first month
    # November: 4 - 10 = 6 short; December makes the 6 late + 10 - 7 received = 9
    assert p["production"].tolist() == [0.0, 9.0]
    assert p["shortage"].tolist() == [6.0, 0.0]
    assert any("due before 2026-11" in n for n in sp.notes)


# ---------------------------------------------------------------- strategies by definition
def test_chase_makes_demand_plus_safety_stock_minus_stock_within_capacity():
    # opening 4, SS 0, no lead time: chase = 6, 12, then 20 capped at 10 + 5 overtime = 15
    dp = demand_plan({"A": [10, 12, 20]})
    inv = pd.DataFrame({"sku": ["A"], "on_hand": [4.0]})
    prods = products([{"sku": "A", "lead_time_months": 0.0}])
    sp = plan(dp, tables(prods, capacity([10, 10, 10], overtime=[5, 5, 5]), inv), NOW)
    assert strategy(sp, "chase") == [6.0, 12.0, 15.0]
    assert strategy(sp, "chase", "overtime_hours") == [0.0, 2.0, 5.0]
    assert strategy(sp, "chase", "backlog") == [0.0, 0.0, 5.0]


def test_level_spreads_net_requirement_evenly_in_whole_units():
    # (10 + 12 + 20 - 4 opening - 3 open supply) = 35 over 3 months: cumulative ceil(35 k / 3)
    dp = demand_plan({"A": [10, 12, 20]})
    inv = pd.DataFrame({"sku": ["A"], "on_hand": [4.0]})
    supply = pd.DataFrame({"sku": ["A"], "month": [MONTHS[0]], "quantity": [3.0], "kind": ["purchase"]})
    prods = products([{"sku": "A", "lead_time_months": 0.0}])
    sp = plan(dp, tables(prods, capacity([100] * 3), inv, supply), NOW)
    cumulative = [math.ceil(35 * k / 3) for k in range(4)]
    made = np.diff(cumulative).astype(float)
    assert strategy(sp, "level") == made.tolist() == [12.0, 12.0, 11.0]
    net = 4 + np.cumsum(np.array([3.0, 0.0, 0.0]) + made - [10, 12, 20])
    assert strategy(sp, "level", "inventory") == pytest.approx(np.maximum(net, 0))
    assert strategy(sp, "level", "backlog") == pytest.approx(np.maximum(-net, 0))


def test_level_and_chase_include_safety_stock_after_the_lead_time():
    # sigma 10 from error_stats, lead 1 month, 84.13% -> z = 1 -> SS = 10; nothing new in month 1
    dp = demand_plan({"A": [10, 10, 10]})
    stats = pd.DataFrame({"unique_id": ["A"], "sigma": [10.0]})
    settings = SupplyParams(service_level=float(norm.cdf(1.0)), frozen_months=0)
    sp = plan(dp, tables(products([{"sku": "A"}]), capacity([100] * 3)), settings, error_stats=stats)
    # chase: month 1 is 10 short; month 2 makes 10 backlog + 10 demand + 10 SS; month 3 the demand
    assert strategy(sp, "chase") == [0.0, 30.0, 10.0]
    # level: (30 demand + 10 SS) over the 2 months from the lead time on
    assert strategy(sp, "level") == [0.0, 20.0, 20.0]
    assert strategy(sp, "level", "backlog") == [10.0, 0.0, 0.0]


# ---------------------------------------------------------------- the optimal plan against brute force
def brute_force_cost(production, demand, opening, safety, hpu, regular, overtime, rate, cost, price, s):
    """Independent objective of one SKU's plan: spend (production, every overtime hour at rate x premium,
    holding, backlog, lost sales at the end) plus the below-safety-stock penalty; None when over capacity.
    """
    production = np.asarray(production, float)
    hours = production * hpu
    if np.any(hours > np.asarray(regular) + np.asarray(overtime) + 1e-9):
        return None
    net = opening + np.cumsum(production - demand)
    on_hand, backlog = np.maximum(net, 0), np.maximum(-net, 0)
    total = cost * production.sum()
    total += s.overtime_premium * rate * np.maximum(hours - regular, 0).sum()
    total += s.holding_cost_rate * cost * on_hand.sum()
    total += s.backlog_cost_rate * price * backlog.sum() + s.lost_sale_rate * price * backlog[-1]
    total += s.safety_stock_shortfall_rate * price * np.maximum(safety - net, 0).sum()
    return total


@pytest.mark.parametrize(
    "demand,regular,overtime,opening,sigma,lead",
    [
        ([4, 9, 3], [5, 5, 5], [2, 2, 2], 1, 0.0, 0.0),  # peak month: build ahead, overtime or backlog?
        ([0, 2, 12], [6, 6, 6], [1, 1, 1], 0, 0.0, 0.0),  # capacity short at the end: build early
        ([5, 5, 5], [4, 4, 4], [3, 3, 3], 2, 2.0, 1.0),  # a safety stock to hold; nothing new in month 1
    ],
)
def test_optimal_plan_equals_brute_force_minimum(demand, regular, overtime, opening, sigma, lead):
    s = SupplyParams(
        holding_cost_rate=0.05,
        backlog_cost_rate=0.3,
        overtime_premium=0.5,
        safety_stock_shortfall_rate=0.1,
        service_level=float(norm.cdf(1.0)),
        frozen_months=0,
        mip_gap=0.0,
    )
    dp = demand_plan({"A": demand})
    prods = products(
        [{"sku": "A", "hours_per_unit": 1.0, "unit_cost": 6.0, "unit_price": 10.0, "lead_time_months": lead}]
    )
    inv = pd.DataFrame({"sku": ["A"], "on_hand": [float(opening)]})
    stats = pd.DataFrame({"unique_id": ["A"], "sigma": [sigma]})
    sp = plan(dp, tables(prods, capacity(regular, overtime, rate=[8.0] * 3), inv), s, error_stats=stats)
    safety = sigma * math.sqrt(lead)  # z = 1
    args = (
        np.array(demand, float),
        opening,
        safety,
        1.0,
        np.array(regular),
        np.array(overtime),
        8.0,
        6.0,
        10.0,
        s,
    )
    first = math.ceil(lead)
    plans = [p for p in itertools.product(range(9), repeat=3) if not any(p[:first])]  # whole units only
    best = min(c for c in (brute_force_cost(p, *args) for p in plans) if c is not None)
    summary = sp.strategy_summary.set_index("strategy")
    objective = summary["total_cost"] + summary["safety_stock_penalty"]
    assert objective["optimal"] == pytest.approx(best, abs=1e-6)
    assert objective["optimal"] <= objective[["chase", "level"]].min() + 1e-6
    chosen = strategy(sp, "optimal")
    assert chosen == [round(q) for q in chosen] and not any(chosen[:first])
    assert brute_force_cost(chosen, *args) == pytest.approx(best, abs=1e-6)


def test_optimal_plan_shares_a_resource_between_families_like_brute_force():
    # two families on one line of 10 hours a month (+2 overtime); F is worth more to serve on time than G
    s = SupplyParams(
        holding_cost_rate=0.05,
        backlog_cost_rate=0.3,
        overtime_premium=0.5,
        fallback_error_cv=0.0,
        frozen_months=0,
        mip_gap=0.0,
    )
    months = MONTHS[:2]
    dp = demand_plan({"a": [6, 9], "g": [5, 6]}, family={"a": "F", "g": "G"}, months=months)
    prods = products(
        [
            {"sku": "a", "family": "F", "unit_price": 20.0, "unit_cost": 12.0, "lead_time_months": 0.0},
            {
                "sku": "g",
                "family": "G",
                "unit_price": 10.0,
                "unit_cost": 6.0,
                "hours_per_unit": 0.5,
                "lead_time_months": 0.0,
            },
        ]
    )
    sp = plan(dp, tables(prods, capacity([10, 10], [2, 2], rate=[8.0, 8.0], months=months)), s)

    # every plan in whole units, costed with numpy: rows = plans, columns = months
    grid = np.arange(0, 25)
    a1, a2, g1, g2 = (x.ravel() for x in np.meshgrid(grid, grid, grid, grid, indexing="ij"))
    pa, pg = np.stack([a1, a2], axis=1).astype(float), np.stack([g1, g2], axis=1).astype(float)
    hours = pa * 1.0 + pg * 0.5
    total = s.overtime_premium * 8.0 * np.maximum(hours - 10, 0).sum(axis=1)
    for prod, dem, c, p in ((pa, [6, 9], 12.0, 20.0), (pg, [5, 6], 6.0, 10.0)):
        net = np.cumsum(prod - np.array(dem, float), axis=1)
        on, back = np.maximum(net, 0), np.maximum(-net, 0)
        total += c * prod.sum(axis=1) + s.holding_cost_rate * c * on.sum(axis=1)
        total += s.backlog_cost_rate * p * back.sum(axis=1) + s.lost_sale_rate * p * back[:, -1]
    feasible = (hours <= 12 + 1e-9).all(axis=1)
    best = total[feasible].min()
    summary = sp.strategy_summary.set_index("strategy")
    assert summary.loc["optimal", "total_cost"] == pytest.approx(best, abs=1e-6)
    assert summary.loc["optimal", "safety_stock_penalty"] == 0


def test_rounded_lp_stays_close_to_the_exact_mip():
    # 8 SKUs in lots of 5 (minimum order 10 on half of them) on a tight line: the rounded LP (the
    # default above mip_max_variables) is in whole lots, within the hours, and within 5% of the exact MIP
    rng = np.random.default_rng(3)
    months = pd.date_range("2026-11-01", periods=5, freq="MS")
    skus = [f"S{i}" for i in range(8)]
    dp = demand_plan({k: rng.integers(5, 30, 5).astype(float).tolist() for k in skus}, months=months)
    prods = products(
        [
            {
                "sku": k,
                "lot_size": 5,
                "min_order": 10 * (i % 2),
                "hours_per_unit": float(rng.uniform(0.5, 1.5)),
                "lead_time_months": 0.0,
                "unit_price": 60.0,
                "unit_cost": 30.0,
            }
            for i, k in enumerate(skus)
        ]
    )
    need = dp.merge(prods.rename(columns={"sku": "unique_id"}), on="unique_id")
    hours = float((need["consensus"] * need["hours_per_unit"]).sum()) / 5
    cap = capacity([hours * 0.95] * 5, [hours * 0.1] * 5, months=months)
    inv = pd.DataFrame({"sku": skus, "on_hand": 8.0})
    rounded = SupplyParams(fallback_error_cv=0.2, frozen_months=0, mip_max_variables=0)
    exact = rounded.model_copy(update={"exact_lots": True, "mip_gap": 1e-4})
    fast = plan(dp, tables(prods, cap, inv), rounded)
    best = plan(dp, tables(prods, cap, inv), exact)
    objective = [
        sp.strategy_summary.set_index("strategy").loc["optimal", ["total_cost", "safety_stock_penalty"]].sum()
        for sp in (fast, best)
    ]
    assert objective[1] <= objective[0] + 1e-6 <= objective[1] * 1.05
    rows = fast.sku_plans[fast.sku_plans["strategy"] == "optimal"].merge(
        prods.rename(columns={"sku": "unique_id"}), on="unique_id"
    )
    assert (rows["production"] % 5 == 0).all()
    assert ((rows["production"] == 0) | (rows["production"] >= rows["min_order"])).all()
    used = (rows["production"] * rows["hours_per_unit"]).groupby(rows["month"]).sum()
    assert (used <= hours * 1.05 + 1e-6).all()
    assert "to whole lots" in " ".join(fast.notes) and "exact MIP" in " ".join(best.notes)


# ---------------------------------------------------------------- errors name what to fix
def test_resource_without_capacity_is_named():
    dp = demand_plan({"A": [1, 1, 1]})
    with pytest.raises(PlanError, match="resource oven .*no rows in the capacity table"):
        plan(dp, tables(products([{"sku": "A", "resource": "oven"}]), capacity([10] * 3)), NO_SAFETY)


def test_negative_capacity_names_resource_and_month():
    dp = demand_plan({"A": [1, 1, 1]})
    with pytest.raises(PlanError, match=r"capacity.hours for resource line in 2026-12 is -5"):
        plan(dp, tables(products([{"sku": "A"}]), capacity([10, -5, 10])), NO_SAFETY)


def test_open_production_orders_beyond_capacity_name_resource_and_month():
    dp = demand_plan({"A": [1, 1, 1]})
    supply = pd.DataFrame({"sku": ["A"], "month": [MONTHS[2]], "quantity": [30.0], "kind": ["production"]})
    with pytest.raises(PlanError, match="30 hours on resource line in 2027-01 but it has 10 regular"):
        plan(dp, tables(products([{"sku": "A"}]), capacity([10] * 3, [5] * 3), supply=supply), NO_SAFETY)


def test_unknown_sku_and_bad_demand_are_data_errors():
    with pytest.raises(DataError, match="missing from products .*first: Z"):
        plan(demand_plan({"Z": [1, 1, 1]}), tables(products([{"sku": "A"}]), capacity([10] * 3)), NO_SAFETY)
    with pytest.raises(DataError, match=r"demand_plan.consensus row 2: -3"):
        plan(demand_plan({"A": [1, -3, 1]}), tables(products([{"sku": "A"}]), capacity([10] * 3)), NO_SAFETY)


def test_bought_in_skus_need_no_capacity_and_inputs_are_untouched():
    dp = demand_plan({"A": [3, 3, 3], "P": [7, 7, 7]})
    prods = products(
        [
            {"sku": "A", "lead_time_months": 0.0},
            {"sku": "P", "resource": None, "hours_per_unit": None, "lead_time_months": 0.0},
        ]
    )
    t = tables(prods, capacity([10] * 3))
    before = {k: v.copy() for k, v in t.items()}
    dp_before = dp.copy()
    sp = plan(dp, t, NOW)
    p = sp.inventory_projection.set_index(["unique_id", "month"])
    assert p.loc["P", "production"].tolist() == [7.0, 7.0, 7.0]
    assert sp.capacity_load["required_hours"].tolist() == [3.0, 3.0, 3.0]
    pd.testing.assert_frame_equal(dp, dp_before)
    for k in t:
        pd.testing.assert_frame_equal(t[k], before[k])


def test_open_production_orders_use_their_resource_hours_and_every_overtime_hour_is_costed():
    # 4 units already on order take 4 of month 1's 10 regular hours; chase wants 20 - 4 = 16 but only
    # 10 - 4 + 5 overtime = 11 hours are left, so it makes 11 and the 5 short come in month 2
    dp = demand_plan({"A": [20, 0, 0]})
    supply = pd.DataFrame({"sku": ["A"], "month": [MONTHS[0]], "quantity": [4.0], "kind": ["production"]})
    settings = SupplyParams(fallback_error_cv=0.0, strategy="chase", frozen_months=0)
    prods = products([{"sku": "A", "lead_time_months": 0.0}])
    sp = plan(dp, tables(prods, capacity([10] * 3, [5] * 3, rate=[30.0] * 3), supply=supply), settings)
    assert strategy(sp, "chase") == [11.0, 5.0, 0.0]
    assert strategy(sp, "chase", "backlog") == [5.0, 0.0, 0.0]
    assert sp.capacity_load["planned_hours"].tolist() == [15.0, 5.0, 0.0]
    assert sp.capacity_load["available_hours"].tolist() == [10.0, 10.0, 10.0]
    # 15 hours used against 10 regular: all 5 overtime hours are charged, open order or not
    summary = sp.strategy_summary.set_index("strategy")
    assert summary.loc["chase", "overtime_hours"] == 5.0
    assert summary.loc["chase", "overtime_cost"] == pytest.approx(5 * 30.0 * settings.overtime_premium)
    assert sum(strategy(sp, "chase", "overtime_hours")) == pytest.approx(5.0)
    assert sum(strategy(sp, "chase", "overtime_cost")) == pytest.approx(5 * 30.0 * settings.overtime_premium)


def test_negative_costs_are_named_before_the_solver_sees_them():
    prods = products([{"sku": "A", "unit_cost": -2.0}])
    with pytest.raises(DataError, match=r"products.unit_cost for SKU A is -2.0; it must be >= 0"):
        plan(demand_plan({"A": [1, 1, 1]}), tables(prods, capacity([10] * 3)), NO_SAFETY)
