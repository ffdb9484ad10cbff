"""Scenarios: change the inputs (demand plan, capacity, prices, new products), re-run supply through
`salesops.supply.plan` and finance through `finance`, compare with the baseline and recommend one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..params import Adjustment, Launch, Params, Scenario
from ..report import money
from ._common import adjustment_factor, month_start, supply_frames
from .financials import finance

__all__ = [
    "BASELINE",
    "COMPARISON_COLUMNS",
    "RULE",
    "SUPPLY_TABLES",
    "Recommendation",
    "ScenarioResult",
    "apply_scenario",
    "check_scenarios",
    "compare",
    "recommend",
    "run_scenario",
    "run_scenarios",
    "scenario_demand",
    "scenario_plans",
    "summarise",
]

BASELINE = "baseline"
SUPPLY_TABLES = ("products", "inventory", "capacity", "supply")
COMPARISON_COLUMNS = [
    "scenario",
    "description",
    "revenue",
    "revenue_vs_baseline",
    "cost",
    "margin",
    "margin_vs_baseline",
    "margin_pct",
    "fill_rate",
    "inventory_value",
    "weeks_of_supply",
    "utilisation",
    "peak_utilisation",
    "overload_hours",
    "late_units",
    "lost_units",
    "fill_rate_high",
    "hours_beyond_capacity",
    "capacity_feasible",
    "lowest_family",
    "lowest_family_fill_rate",
    "peak_resource",
    "peak_month",
    "weeks_of_supply_now",
    "safety_stock_weeks",
    "meets_service",
    "recommended",
    "verdict",
    "ran",
]
RULE = (
    "the scenario with the highest margin among those whose plan fits every resource-month's regular "
    "plus overtime hours at SKU level and whose fill rate meets the service target in total and in "
    "every family, with no more sales lost than the target allows (units the hours cannot make are "
    "counted late or lost, never hidden); if none meets it, the feasible one with the highest fill rate"
)


@dataclass
class ScenarioResult:
    """One scenario: its inputs after the changes, the supply plan and the family finance.

    Attributes:
        scenario: The scenario as the parameters define it.
        demand_plan: The demand plan with the scenario's changes.
        tables: The supply input tables with the scenario's changes.
        supply: The supply plan (`salesops.supply.SupplyPlan`) run on them.
        money: The family finance of that plan (`finance`).
        production_plan: The family production plan of the strategy in use.
    """

    scenario: Scenario
    demand_plan: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    supply: object
    money: pd.DataFrame
    production_plan: pd.DataFrame

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name


@dataclass
class Recommendation:
    """The recommended scenario, the rule that chose it and the reasons as sentences.

    Attributes:
        scenario: The recommended scenario's name.
        rule: The rule that chose it (`RULE`).
        reasons: Why, one sentence each.
    """

    scenario: str
    rule: str
    reasons: list[str] = field(default_factory=list)


def apply_scenario(
    scenario: Scenario,
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    error_stats: pd.DataFrame | None = None,
    default_lead_time: float = 1.0,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The demand plan, tables and error stats with a scenario's demand, capacity and launch changes.

    Demand changes scale `consensus` (and its intervals); capacity changes scale `hours` and
    `overtime_hours`; launches add the SKU to products, a zero inventory row and a flat demand from
    their month. Price changes act in `finance`. The inputs are left unchanged.

    Args:
        scenario: The scenario.
        demand_plan: The demand plan.
        tables: The supply input tables (`products`, `inventory`, `capacity`, `supply`).
        error_stats: The forecast error statistics, or None.
        default_lead_time: The lead time in months of a launched product.

    Returns:
        `(demand_plan, tables, error_stats)` with the changes applied (copies).

    Raises:
        ParameterError: The scenario names a family, SKU or resource the data lacks, or is invalid.

    Example:
        >>> s = Scenario(name="push", demand=[Adjustment(family="F", start="2027-01", pct=15)])
        >>> dp, tables, _ = apply_scenario(s, demand_plan, tables)  # doctest: +SKIP
    """
    _check_scenario(scenario, demand_plan, tables)
    dp = demand_plan.copy()
    dp["ds"] = pd.to_datetime(dp["ds"])
    factor = adjustment_factor(dp, scenario.demand, "ds", {"family": "family", "sku": "unique_id"})
    for col in ("consensus", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"):
        if col in dp.columns:
            dp[col] = dp[col] * factor
    out = {k: v.copy() for k, v in tables.items()}
    if scenario.capacity:
        cap = out["capacity"]
        cap["month"] = pd.to_datetime(cap["month"])
        factor = adjustment_factor(cap, scenario.capacity, "month", {"resource": "resource"})
        cap["hours"] = cap["hours"] * factor
        if "overtime_hours" in cap.columns:
            cap["overtime_hours"] = cap["overtime_hours"] * factor
    stats = None if error_stats is None else error_stats.copy()
    if scenario.launches:
        dp, out, stats = _launch(scenario.launches, dp, out, stats, default_lead_time)
    return dp, out, stats


def _launch(
    launches: Sequence[Launch],
    dp: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    stats: pd.DataFrame | None,
    default_lead_time: float,
):
    months = sorted(dp["ds"].unique())
    new_rows, products, inventory = [], [], []
    for launch in launches:
        start = month_start(launch.start)
        for month in (m for m in months if m >= start):
            units = launch.units_per_month
            row = {
                "unique_id": launch.sku,
                "family": launch.family,
                "ds": month,
                "statistical": 0.0,
                "pipeline": 0.0,
                "consensus": units,
            }
            row.update(
                {c: units for c in ("yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95") if c in dp}
            )
            new_rows.append(row)
        products.append(
            {
                "sku": launch.sku,
                "family": launch.family,
                "unit_price": launch.unit_price,
                "unit_cost": launch.unit_cost,
                "resource": launch.resource,
                "hours_per_unit": launch.hours_per_unit,
                "lead_time_months": default_lead_time,
                "status": "launch",
            }
        )
        inventory.append({"sku": launch.sku, "on_hand": 0.0, "safety_stock": 0.0})
    dp = pd.concat([dp, pd.DataFrame(new_rows)], ignore_index=True)
    tables["products"] = pd.concat(
        [
            tables["products"],
            pd.DataFrame(products)[
                [
                    c
                    for c in products[0]
                    if c in tables["products"].columns or c in ("sku", "family", "unit_price", "unit_cost")
                ]
            ],
        ],
        ignore_index=True,
    )
    if "inventory" in tables:
        tables["inventory"] = pd.concat(
            [
                tables["inventory"],
                pd.DataFrame(inventory)[[c for c in inventory[0] if c in tables["inventory"].columns]],
            ],
            ignore_index=True,
        )
    if stats is not None and len(stats):
        # a new product's forecast error is unknown: take the median relative error of the others
        rel = (
            stats["sigma"]
            / dp.groupby("unique_id")["consensus"].mean().reindex(stats["unique_id"]).to_numpy()
        )
        median_rel = float(np.nanmedian(rel.replace([np.inf, -np.inf], np.nan))) if len(rel) else 0.3
        extra = pd.DataFrame(
            [{"unique_id": la.sku, "sigma": median_rel * la.units_per_month} for la in launches]
        )
        stats = pd.concat([stats, extra], ignore_index=True)
    return dp, tables, stats


def _check_scenario(scenario: Scenario, demand_plan: pd.DataFrame, tables: Mapping[str, pd.DataFrame]):
    families = set(demand_plan["family"].astype(str))
    skus = set(demand_plan["unique_id"].astype(str))
    resources = set(tables["capacity"]["resource"].astype(str)) if "capacity" in tables else set()
    where = f"params scenarios '{scenario.name}'"

    def check(section: str, adj: Adjustment, i: int):
        for attr, known in (("family", families), ("sku", skus), ("resource", resources)):
            value = getattr(adj, attr)
            if value is not None and str(value) not in known:
                sample = ", ".join(sorted(known)[:8])
                raise ParameterError(
                    f"{where}: {section}[{i}].{attr} = '{value}' is not in the data "
                    f"(known: {sample}{', ...' if len(known) > 8 else ''}); fix the name"
                )
        if adj.pct < -100:
            raise ParameterError(
                f"{where}: {section}[{i}].pct = {adj.pct} would remove more than everything; "
                "use a percentage of -100 (all of it) or more"
            )
        if adj.start is not None and adj.end is not None and month_start(adj.end) < month_start(adj.start):
            raise ParameterError(
                f"{where}: {section}[{i}] runs from {adj.start} until {adj.end}; "
                "'until' must not come before 'from'"
            )
        if section == "capacity" and (adj.family is not None or adj.sku is not None):
            raise ParameterError(f"{where}: capacity[{i}] selects by resource only; remove family/sku")

    for section in ("demand", "capacity", "price"):
        for i, adj in enumerate(getattr(scenario, section)):
            check(section, adj, i)
    for i, launch in enumerate(scenario.launches):
        if launch.sku in skus:
            raise ParameterError(
                f"{where}: launches[{i}].sku = '{launch.sku}' already exists; a launch needs a new SKU code"
            )
        if launch.resource is not None and launch.resource not in resources:
            raise ParameterError(
                f"{where}: launches[{i}].resource = '{launch.resource}' is not a resource in "
                f"the capacity table ({', '.join(sorted(resources))})"
            )


def _chosen(production_plan: pd.DataFrame, strategy: str) -> pd.DataFrame:
    """The family production plan of the strategy in use (all rows when there is no strategy column)."""
    if "strategy" not in production_plan.columns:
        return production_plan
    chosen = production_plan[production_plan["strategy"] == strategy]
    if chosen.empty:
        known = ", ".join(sorted(production_plan["strategy"].astype(str).unique()))
        raise ParameterError(
            f"supply.strategy '{strategy}' is not in the production plan (strategies: {known}); "
            "set supply.strategy to one of them"
        )
    return chosen


def run_scenario(
    scenario: Scenario,
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    p: Params,
    error_stats: pd.DataFrame | None = None,
    backtest: pd.DataFrame | None = None,
) -> ScenarioResult:
    """Apply a scenario, re-run supply (`salesops.supply.plan`) and finance on it.

    Args:
        scenario: The scenario.
        demand_plan: The demand plan.
        tables: The supply input tables.
        p: The run's parameters (supply settings, period).
        error_stats: The forecast error statistics, or None.
        backtest: Demand planning's backtest (safety stock over the lead time), or None.

    Returns:
        The scenario's inputs, supply plan and finance.

    Raises:
        ParameterError: The scenario does not fit the data, or `supply.strategy` is unknown.
        PlanError: Supply planning cannot plan the changed inputs.
    """
    from .. import supply

    dp, scn_tables, stats = apply_scenario(
        scenario, demand_plan, tables, error_stats, p.supply.default_lead_time_months
    )
    plan = supply.plan(dp, scn_tables, p.supply, error_stats=stats, period=p.period, backtest=backtest)
    frames = supply_frames(plan)
    production = _chosen(frames["production_plan"], p.supply.strategy)
    detail = getattr(plan, "groups", None)
    detail = _chosen(detail, p.supply.strategy) if detail is not None else production
    fin = finance(
        frames["inventory_projection"],
        scn_tables["products"],
        detail,
        p.supply,
        scn_tables.get("capacity"),
        scenario.price,
    )
    return ScenarioResult(scenario, dp, scn_tables, plan, fin, production)


def run_scenarios(
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    p: Params,
    error_stats: pd.DataFrame | None = None,
    scenarios: Sequence[Scenario] | None = None,
    backtest: pd.DataFrame | None = None,
) -> dict[str, ScenarioResult]:
    """The baseline and every scenario, each re-running supply and finance.

    Args:
        demand_plan: The demand plan.
        tables: The input tables (those supply does not read are ignored).
        p: The run's parameters.
        error_stats: The forecast error statistics, or None.
        scenarios: The scenarios to run (default `p.scenarios`).
        backtest: Demand planning's backtest (safety stock over the lead time), or None.

    Returns:
        Name to result, the baseline first.

    Raises:
        ParameterError: A scenario names a family, SKU or resource the data lacks, or two scenarios
            share a name (or one is called `baseline`).

    Example:
        >>> results = run_scenarios(demand_plan, tables, p, error_stats)  # doctest: +SKIP
        >>> list(results)[0]  # doctest: +SKIP
        'baseline'
    """
    scenarios = list(p.scenarios if scenarios is None else scenarios)
    names = [s.name for s in scenarios]
    clash = {BASELINE} & set(names) or {n for n in names if names.count(n) > 1}
    if clash:
        raise ParameterError(
            f"params scenarios: name '{min(clash)}' is used twice or is reserved for the "
            "baseline; give each scenario its own name"
        )
    supply_tables = {k: tables[k] for k in SUPPLY_TABLES if k in tables}
    everything = [Scenario(name=BASELINE, description="the demand plan and capacity as they are")] + scenarios
    return {s.name: run_scenario(s, demand_plan, supply_tables, p, error_stats, backtest) for s in everything}


def check_scenarios(
    scenarios: Sequence[Scenario], demand_plan: pd.DataFrame, tables: Mapping[str, pd.DataFrame]
) -> tuple[list[Scenario], dict[str, str]]:
    """Split scenarios into those the data can run and those it cannot.

    `params/<PERIOD>.yaml` belongs to a period, not to a data set: a scenario about a family the data
    does not have is reported and left out rather than stopping the whole cycle.

    Args:
        scenarios: The scenarios.
        demand_plan: The demand plan (its families and SKUs).
        tables: The input tables (the capacity table's resources).

    Returns:
        `(runnable, skipped)`: the scenarios that fit the data, and name to reason for the others.
    """
    runnable, skipped = [], {}
    for scenario in scenarios:
        try:
            _check_scenario(scenario, demand_plan, tables)
        except ParameterError as exc:
            skipped[scenario.name] = str(exc)
        else:
            runnable.append(scenario)
    return runnable, skipped


def summarise(result: ScenarioResult) -> dict:
    """Totals of one scenario over the horizon.

    Args:
        result: A scenario's result.

    Returns:
        `scenario, description, revenue, cost, margin, margin_pct, fill_rate, inventory_value,
        weeks_of_supply, utilisation, peak_utilisation, overload_hours` (see `compare`).
    """
    fin = result.money
    frames = supply_frames(result.supply)
    load = frames["capacity_load"]
    proj = frames["inventory_projection"]
    demand = fin["demand_units"].sum()
    capacity = load["available_hours"].sum()
    months = max(fin["month"].nunique(), 1)
    wos = proj["weeks_of_supply"].replace([np.inf, -np.inf], np.nan) if "weeks_of_supply" in proj else None
    over = (load["required_hours"] - load["available_hours"] - load["overtime_hours"].fillna(0)).clip(lower=0)
    open_ = load[
        load["available_hours"] > 0
    ]  # a closed month (0 hours) has no utilisation; its load is overload
    return {
        "scenario": result.name,
        "description": result.scenario.description,
        "revenue": fin["revenue"].sum(),
        "cost": fin["cost"].sum(),
        "margin": fin["margin"].sum(),
        "margin_pct": fin["margin"].sum() / fin["revenue"].sum() if fin["revenue"].sum() else np.nan,
        "fill_rate": 1 - fin["shortage_units"].sum() / demand if demand else np.nan,
        "inventory_value": fin["inventory_value"].sum() / months,
        "weeks_of_supply": float(wos.median()) if wos is not None and wos.notna().any() else np.nan,
        "utilisation": load["required_hours"].sum() / capacity if capacity else np.nan,
        "peak_utilisation": float(open_["required_hours"].div(open_["available_hours"]).max())
        if len(open_)
        else np.nan,
        "overload_hours": float(over.sum()),
        **_service(result.supply, load),
    }


def _service(plan, load: pd.DataFrame) -> dict:
    """Units late and lost, the high-demand fill rate, hours the plan needs beyond regular + overtime
    and the peak resource-month of one scenario's supply plan."""
    summary = supply_frames(plan)["strategy_summary"]
    strategy = getattr(plan, "strategy", None)
    row = (
        summary.set_index("strategy").loc[strategy] if strategy in set(summary.get("strategy", [])) else None
    )
    open_ = load[load["available_hours"] > 0]
    peak = open_.loc[open_["required_hours"].div(open_["available_hours"]).idxmax()] if len(open_) else None

    def get(name):
        return float(row[name]) if row is not None and name in row.index else np.nan

    beyond = get("hours_beyond_capacity")
    family = getattr(plan, "family_service", None)
    lowest = None
    if family is not None and len(family) and strategy is not None:
        family = family[(family["strategy"] == strategy) & (family["demand"] > 0)]
        if len(family):
            lowest = family.sort_values(["fill_rate", "family"]).iloc[0]
    proj = supply_frames(plan)["inventory_projection"]
    months = sorted(proj["month"].unique()) if len(proj) else []
    ahead = proj[proj["month"].isin(months[1:4])].groupby("month")["demand"].sum().mean() if months else 0
    weekly = ahead / (52 / 12) if ahead and pd.notna(ahead) else 0.0
    first = proj[proj["month"] == months[0]] if months else proj
    return {
        "weeks_of_supply_now": float(first["on_hand"].sum() / weekly) if weekly else np.nan,
        "safety_stock_weeks": float(first["safety_stock"].sum() / weekly) if weekly else np.nan,
        "late_units": get("late_units"),
        "lost_units": get("lost_units"),
        "fill_rate_high": get("fill_rate_high"),
        "hours_beyond_capacity": beyond,
        "capacity_feasible": bool(not beyond > 1e-6),
        "lowest_family": None if lowest is None else str(lowest["family"]),
        "lowest_family_fill_rate": np.nan if lowest is None else float(lowest["fill_rate"]),
        "peak_resource": None if peak is None else str(peak["resource"]),
        "peak_month": None if peak is None else pd.Timestamp(peak["month"]),
    }


def compare(
    results: Mapping[str, ScenarioResult],
    service_target: float,
    skipped: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Side-by-side comparison of the scenarios, baseline first, the recommended one flagged.

    `fill_rate` is the share of demand served in its month (1 - late / demand, as
    `salesops.supply.fill_rate` at SKU level); `inventory_value` the average month-end stock at cost;
    `weeks_of_supply` the median over SKU-months; `utilisation` required / regular hours over all
    resources and months; `peak_utilisation` the highest resource-month.

    Args:
        results: Name to result, the baseline first (`run_scenarios`).
        service_target: The fill rate a scenario must reach (a fraction).
        skipped: Scenarios that could not run, name to reason; each gets a row with no figures
            (`ran` False) and the reason as verdict.
        descriptions: Name to description, for the skipped scenarios.

    Returns:
        The columns `COMPARISON_COLUMNS`, one row per scenario.
    """
    rows = pd.DataFrame([summarise(r) for r in results.values()])
    base = rows.iloc[0]
    rows["revenue_vs_baseline"] = rows["revenue"] - base["revenue"]
    rows["margin_vs_baseline"] = rows["margin"] - base["margin"]
    demand = np.array([r.money["demand_units"].sum() for r in results.values()])
    lost_share = rows["lost_units"].fillna(0).to_numpy() / np.where(demand > 0, demand, 1)
    family_rate = rows["lowest_family_fill_rate"].fillna(rows["fill_rate"])
    rows["meets_service"] = (
        (rows["fill_rate"] >= service_target - 1e-9)
        & (family_rate >= service_target - 1e-9)
        & (lost_share <= 1 - service_target + 1e-9)
        & rows["capacity_feasible"].astype(bool)
    )
    rec = recommend(rows, service_target)
    rows["recommended"] = rows["scenario"] == rec.scenario
    rows["verdict"] = [_verdict(row, service_target) for row in rows.itertuples()]
    rows["ran"] = True
    if skipped:
        extra = pd.DataFrame(
            [
                {
                    "scenario": name,
                    "description": (descriptions or {}).get(name, ""),
                    "meets_service": False,
                    "recommended": False,
                    "ran": False,
                    "verdict": f"Not run: {reason}",
                }
                for name, reason in skipped.items()
            ]
        )
        rows = pd.concat([rows, extra], ignore_index=True)
    return rows[COMPARISON_COLUMNS]


def _verdict(row, target: float) -> str:
    service = (
        f"fill rate {row.fill_rate:.1%} meets the {target:.0%} target"
        if row.meets_service
        else f"fill rate {row.fill_rate:.1%} misses the {target:.0%} target"
    )
    lost = getattr(row, "lost_units", 0.0)
    late = getattr(row, "late_units", 0.0)
    if pd.notna(late) and late > 0.5:
        service += f" ({late:,.0f} units late, {lost:,.0f} lost at the end)"
    low, family = getattr(row, "lowest_family_fill_rate", np.nan), getattr(row, "lowest_family", None)
    if pd.notna(low) and family and low < target - 1e-9:
        service += f"; {family} only {low:.1%}"
    beyond = getattr(row, "hours_beyond_capacity", 0.0)
    if pd.notna(beyond) and beyond > 1e-6:
        service += f"; needs {beyond:,.0f} h beyond regular plus overtime"
    if row.scenario == BASELINE:
        return f"Baseline: margin {money(row.margin)}; {service}."
    return (
        f"Margin {row.margin_vs_baseline:+,.0f} vs baseline ({money(row.margin)}); {service}; "
        f"peak utilisation {row.peak_utilisation:.0%}."
    )


def _why_not(row, target: float) -> str:
    """Why a scenario does not meet service, in words (every reason that applies)."""
    why = []
    if row.fill_rate < target - 1e-9:
        why.append(f"its fill rate {row.fill_rate:.1%} misses the {target:.0%} target")
    low, family = getattr(row, "lowest_family_fill_rate", np.nan), getattr(row, "lowest_family", None)
    if pd.notna(low) and family and low < target - 1e-9:
        why.append(f"{family} misses the target ({low:.1%})")
    beyond = getattr(row, "hours_beyond_capacity", np.nan)
    if pd.notna(beyond) and beyond > 1e-6:
        why.append(f"it needs {beyond:,.0f} hours beyond regular plus overtime")
    lost = getattr(row, "lost_units", np.nan)
    if not why and pd.notna(lost) and lost > 0:
        why.append(f"it loses {lost:,.0f} units, more than the target allows")
    return " and ".join(why) or "it misses the service target"


def recommend(comparison: pd.DataFrame, service_target: float) -> Recommendation:
    """Pick a scenario by the stated rule (`RULE`) and give the reasons as sentences.

    Args:
        comparison: `scenario, margin, fill_rate, revenue` per scenario, the baseline first (rows
            with `ran` False are left out).
        service_target: The fill rate a scenario must reach (a fraction).

    Returns:
        The recommended scenario, the rule and the reasons.

    Example:
        >>> frame = pd.DataFrame({"scenario": ["baseline", "push"], "margin": [10.0, 12.0],
        ...                       "fill_rate": [0.97, 0.96], "revenue": [50.0, 60.0]})
        >>> recommend(frame, 0.95).scenario
        'push'
    """
    if "ran" in comparison.columns:
        comparison = comparison[comparison["ran"].astype(bool)]
    if "meets_service" in comparison.columns:
        meets = comparison[comparison["meets_service"].astype(bool)]
    else:
        meets = comparison[comparison["fill_rate"] >= service_target - 1e-9]
    base = comparison.iloc[0]
    if len(meets):
        best = meets.sort_values(["margin", "fill_rate"], ascending=False, kind="stable").iloc[0]
        reasons = [
            (
                f"{best['scenario']} has the highest margin ({money(best['margin'])}) of the "
                f"{len(meets)} scenario(s) that meet the {service_target:.0%} service target "
                f"(fill rate {best['fill_rate']:.1%})."
            )
        ]
        if best["scenario"] != base["scenario"]:
            reasons.append(
                f"It adds {money(best['margin'] - base['margin'])} margin and "
                f"{money(best['revenue'] - base['revenue'])} revenue to the baseline."
            )
        failing = comparison[~comparison["scenario"].isin(meets["scenario"])]
        better = failing[failing["margin"] > best["margin"]]
        for row in better.itertuples():
            reasons.append(
                f"{row.scenario} would earn more ({money(row.margin)}) but {_why_not(row, service_target)}."
            )
    else:
        pool = comparison
        if "capacity_feasible" in comparison.columns and comparison["capacity_feasible"].astype(bool).any():
            pool = comparison[comparison["capacity_feasible"].astype(bool)]
        best = pool.sort_values(["fill_rate", "margin"], ascending=False, kind="stable").iloc[0]
        reasons = [
            (
                f"No scenario meets the {service_target:.0%} service target; {best['scenario']} comes "
                f"closest with a fill rate of {best['fill_rate']:.1%} (margin {money(best['margin'])})."
            ),
            "Supply needs more capacity or stock to reach the target: see the exceptions.",
        ]
    return Recommendation(str(best["scenario"]), RULE, reasons)


def scenario_plans(results: Mapping[str, ScenarioResult]) -> pd.DataFrame:
    """The family plan of every scenario (the approved one becomes the plan of record).

    Args:
        results: Name to result (`run_scenarios`).

    Returns:
        `scenario, family, month, demand, production, inventory, backlog, revenue, cost, margin`.
    """
    parts = []
    for name, res in results.items():
        plan = res.production_plan.copy()
        plan["month"] = pd.to_datetime(plan["month"])
        keep = [c for c in ("family", "month", "demand", "production", "inventory", "backlog") if c in plan]
        plan = plan[keep].merge(
            res.money[["family", "month", "revenue", "cost", "margin"]], on=["family", "month"], how="left"
        )
        plan.insert(0, "scenario", name)
        parts.append(plan)
    return pd.concat(parts, ignore_index=True)


def scenario_demand(results: Mapping[str, ScenarioResult]) -> pd.DataFrame:
    """The SKU demand plan of every scenario.

    Args:
        results: Name to result (`run_scenarios`).

    Returns:
        `scenario, unique_id, family, ds, consensus`.
    """
    return pd.concat(
        [
            r.demand_plan[["unique_id", "family", "ds", "consensus"]].assign(scenario=name)
            for name, r in results.items()
        ],
        ignore_index=True,
    )[["scenario", "unique_id", "family", "ds", "consensus"]]
