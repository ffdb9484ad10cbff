"""The pre-S&OP step: its result (`PreSop`), what it reads, and its entry point `run(ctx)`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ..exceptions import PlanError
from ..params import Params
from ..report import money
from ..steps import StepContext, StepResult
from .decisions import recommendations
from .exception_list import exceptions
from .financials import gaps
from .scenarios import (
    BASELINE,
    SUPPLY_TABLES,
    Recommendation,
    ScenarioResult,
    check_scenarios,
    compare,
    recommend,
    run_scenario,
    run_scenarios,
    scenario_demand,
    scenario_plans,
)

__all__ = ["PreSop", "inputs", "review", "run"]


@dataclass
class PreSop(StepResult):
    """Everything the pre-S&OP review shows and writes; built by `review` (or `run`).

    Attributes:
        results: Every scenario that ran, by name, the baseline first.
        gaps: Demand vs supply vs budget per family and month of the baseline (`gaps`).
        exceptions: The baseline's exceptions, largest value at risk first (`exceptions`).
        scenarios: The scenario comparison (`compare`).
        recommendation: The recommended scenario and why (`recommend`).
        recommendations: The decisions needed (`recommendations`).
        currency: The currency of the money columns.
    """

    results: dict[str, ScenarioResult]
    gaps: pd.DataFrame
    exceptions: pd.DataFrame
    scenarios: pd.DataFrame
    recommendation: Recommendation
    recommendations: pd.DataFrame
    currency: str = "USD"

    @property
    def scenario_plans(self) -> pd.DataFrame:
        """The family plan of every scenario (`scenario_plans`)."""
        return scenario_plans(self.results)

    @property
    def scenario_demand(self) -> pd.DataFrame:
        """The SKU demand plan of every scenario (`scenario_demand`)."""
        return scenario_demand(self.results)

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """The step's products, name to frame (every name `pre_sop` declares in `salesops.steps`)."""
        return {
            "gaps": self.gaps,
            "exceptions": self.exceptions,
            "scenarios": self.scenarios,
            "recommendations": self.recommendations,
            "scenario_plans": self.scenario_plans,
            "scenario_demand": self.scenario_demand,
        }

    def by_family(self) -> pd.DataFrame:
        """Horizon totals per family.

        Returns:
            `family, demand_units, shipped_units, shortage_units, revenue, margin, budget_revenue,
            plan_vs_budget, margin_pct`, largest revenue first; the budget columns sum the budgeted
            months only.
        """
        g = self.gaps
        budgeted = g["budget_revenue"].notna()
        out = g.groupby("family").agg(
            demand_units=("demand_units", "sum"),
            shipped_units=("shipped_units", "sum"),
            shortage_units=("shortage_units", "sum"),
            revenue=("revenue", "sum"),
            margin=("margin", "sum"),
        )
        out["budget_revenue"] = g[budgeted].groupby("family")["budget_revenue"].sum()
        out["plan_vs_budget"] = g[budgeted].groupby("family")["revenue"].sum() - out["budget_revenue"]
        out["margin_pct"] = out["margin"] / out["revenue"]
        return out.reset_index().sort_values("revenue", ascending=False, ignore_index=True)

    @property
    def skipped(self) -> dict[str, str]:
        """Scenarios the data could not run, name to the reason."""
        s = self.scenarios
        return dict(zip(s.loc[~s["ran"], "scenario"], s.loc[~s["ran"], "verdict"])) if "ran" in s else {}

    def headline(self) -> str:
        """One paragraph: the size of the gaps and what is recommended.

        Returns:
            The paragraph (plain text, money in short form).
        """
        g = self.gaps
        budgeted = g.dropna(subset=["budget_revenue"])
        fill = (
            1 - g["shortage_units"].sum() / g["demand_units"].sum()
            if g["demand_units"].sum()
            else float("nan")
        )
        parts = [f"Over the next {g['month'].nunique()} months the plan serves {fill:.1%} of demand on time"]
        if len(budgeted):
            plan, target = budgeted["revenue"].sum(), budgeted["budget_revenue"].sum()
            parts.append(
                f"and earns {money(plan)} {self.currency} against a budget of {money(target)} "
                f"({plan / target - 1:+.1%}) over the {budgeted['month'].nunique()} budgeted months"
            )
        text = " ".join(parts) + "."
        if len(self.exceptions):
            top = self.exceptions.iloc[0]
            text += (
                f" {len(self.exceptions)} exceptions put {money(self.exceptions['value_at_risk'].sum())} "
                f"{self.currency} at risk; the largest is {top['kind'].replace('_', ' ')} on {top['subject']} "
                f"({money(top['value_at_risk'])})."
            )
        text += f" Recommended scenario: {self.recommendation.scenario}."
        if self.skipped:
            text += f" {len(self.skipped)} scenario(s) could not run on this data: {'; '.join(self.skipped.values())}"
        return text


def inputs(ctx: StepContext) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The demand plan, input tables and error stats a pre-S&OP review starts from.

    Args:
        ctx: The pre-S&OP step's context.

    Returns:
        `(demand_plan, tables, error_stats)`: `tables` holds the supply tables and, when the snapshot
        has one, `budget` (without it gaps and KPIs say "no budget"); `error_stats` is None when
        demand planning wrote none (then there are no bias exceptions).

    Raises:
        DataError: The demand plan or a supply table is missing.
    """
    demand_plan = ctx.read("demand_planning", "demand_plan")
    tables = {name: ctx.table(name) for name in SUPPLY_TABLES}
    budget = ctx.table("budget", default=None)
    if budget is not None:
        tables["budget"] = budget
    error_stats = ctx.read("demand_planning", "error_stats", default=None)
    return demand_plan, tables, error_stats


def review(
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    p: Params,
    error_stats: pd.DataFrame | None = None,
    backtest: pd.DataFrame | None = None,
) -> PreSop:
    """The whole pre-S&OP review on explicit frames.

    Runs the scenarios (baseline first; those the data cannot run, or supply cannot plan, are
    reported and left out), the gaps and exceptions of the baseline, the recommended scenario and
    the decisions needed.

    Args:
        demand_plan: The demand plan.
        tables: The input tables: `products`, `inventory`, `capacity`, `supply`, and `budget` if any.
        p: The run's parameters (scenarios, supply and executive settings).
        error_stats: The forecast error statistics, or None.
        backtest: Demand planning's backtest (safety stock over the lead time), or None.

    Returns:
        The review.

    Raises:
        ParameterError: `supply.strategy` is not among the supply plan's strategies.

    Example:
        >>> pre = review(*inputs(ctx), p=ctx.p)  # doctest: +SKIP
        >>> pre.recommendation.scenario  # doctest: +SKIP
        'baseline'
    """
    runnable, skipped = check_scenarios(p.scenarios, demand_plan, tables)
    results = run_scenarios(demand_plan, tables, p, error_stats, [], backtest)
    supply_tables = {k: tables[k] for k in SUPPLY_TABLES if k in tables}
    for scenario in runnable:
        try:
            results[scenario.name] = run_scenario(
                scenario, demand_plan, supply_tables, p, error_stats, backtest
            )
        except PlanError as exc:  # e.g. capacity cut below open production orders: report, keep the others
            skipped[scenario.name] = f"supply planning cannot plan it: {exc}"
    base = results[BASELINE]
    gap = gaps(base.money, tables.get("budget"))
    ex = exceptions(
        gap,
        base.supply,
        base.tables["products"],
        base.demand_plan,
        error_stats,
        p.executive.bias_limit,
        budget_tolerance=p.executive.budget_tolerance,
    )
    comparison = compare(
        results, p.supply.service_level, skipped, {s.name: s.description for s in p.scenarios}
    )
    rec = recommend(comparison, p.supply.service_level)
    recs = recommendations(
        ex, p.period_start, p.executive.top_decisions, p.executive.decision_due_days, p.executive.owners
    )
    return PreSop(results, gap, ex, comparison, rec, recs, p.currency)


def run(ctx: StepContext) -> PreSop:
    """The pre-S&OP step: `review` on the products and tables of the run (what notebook 04 calls).

    Args:
        ctx: The pre-S&OP step's context (`salesops.steps.context("pre_sop", p)`).

    Returns:
        The review; `ctx.save(result)` writes its products.

    Raises:
        DataError: The demand plan or a supply table is missing.
        ParameterError: The scenarios or the supply strategy do not fit the data.

    Example:
        >>> pre = run(ctx)  # doctest: +SKIP
        >>> ctx.save(pre)  # doctest: +SKIP
    """
    demand_plan, tables, error_stats = inputs(ctx)
    backtest = ctx.read("demand_planning", "backtest", default=None)
    return review(demand_plan, tables, ctx.p, error_stats, backtest)
