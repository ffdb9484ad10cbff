"""Pre-S&OP (step 4): the balance of demand, supply and budget, exceptions, scenarios and decisions.

* `financials`: money of a supply plan (`finance`, one definition of revenue, cost and margin) and
  the gaps against budget
* `exception_list`: overloads, shortages, excess, budget gaps and bias ranked by value at risk
* `scenarios`: change the inputs, re-run `salesops.supply.plan` and finance, compare, recommend
* `decisions`: the decisions the executive review must take
* `step`: the step's result `PreSop` and its entry point `run(ctx)`
* `tables`, `charts`: report helpers (`charts` loads Altair on first use)

Example:
    >>> import salesops as so
    >>> pre = so.balance.run(so.steps.context("pre_sop", p))   # doctest: +SKIP
    >>> pre.recommendation.scenario                            # doctest: +SKIP
"""

from .decisions import OPTIONS, OWNERS, RECOMMENDATION_COLUMNS, URGENT, decision_id, recommendations
from .exception_list import EXCEPTION_COLUMNS, exceptions
from .financials import GAP_COLUMNS, family_balance, finance, gaps, shipments, sku_prices
from .scenarios import (
    BASELINE,
    COMPARISON_COLUMNS,
    RULE,
    SUPPLY_TABLES,
    Recommendation,
    ScenarioResult,
    apply_scenario,
    check_scenarios,
    compare,
    recommend,
    run_scenario,
    run_scenarios,
    scenario_demand,
    scenario_plans,
    summarise,
)
from .step import PreSop, inputs, review, run
from .tables import (
    comparison_table,
    exceptions_table,
    family_table,
    monthly_table,
    recommendations_table,
    scenario_notes,
)

__all__ = [
    "BASELINE",
    "COMPARISON_COLUMNS",
    "EXCEPTION_COLUMNS",
    "GAP_COLUMNS",
    "OPTIONS",
    "OWNERS",
    "RECOMMENDATION_COLUMNS",
    "RULE",
    "SUPPLY_TABLES",
    "URGENT",
    "PreSop",
    "Recommendation",
    "ScenarioResult",
    "apply_scenario",
    "check_scenarios",
    "compare",
    "comparison_table",
    "decision_id",
    "exceptions",
    "exceptions_table",
    "family_balance",
    "family_table",
    "finance",
    "gaps",
    "inputs",
    "monthly_table",
    "recommend",
    "recommendations",
    "recommendations_table",
    "review",
    "run",
    "run_scenario",
    "run_scenarios",
    "scenario_demand",
    "scenario_notes",
    "scenario_plans",
    "shipments",
    "sku_prices",
    "summarise",
]


def __getattr__(name: str):
    # the chart loads on first use, so the computation (and the scenarios) stay free of Altair
    if name == "charts":
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "balance_chart":
        from .charts import balance_chart

        return balance_chart
    raise AttributeError(f"module 'salesops.balance' has no attribute '{name}'")
