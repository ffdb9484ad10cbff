"""The follow-up step: `run(ctx)` scores the earlier cycles and returns a `FollowUp`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..steps import StepResult
from .accuracy import accuracy_by_lag, accuracy_trend, bias_by_family, scored_forecasts, value_add
from .alerting import alerts
from .decisions import collect_decisions, decision_log
from .execution import inventory_vs_target, plan_adherence, service_levels
from .past_plans import PROPOSED, load_past_plans
from .stability import STABILITY_BY_CYCLE_COLUMNS, stability_by_cycle

__all__ = [
    "FollowUp",
    "run",
]


@dataclass
class FollowUp(StepResult):
    """Everything notebook 06 shows; `ctx.save(fu)` writes its `products`.

    Attributes:
        period: The current period (`YYYY-MM`).
        sources: Which plan each earlier cycle is judged by (`plan_sources`).
        scored: Every past forecast with its actual (`scored_forecasts`).
        accuracy_by_lag: Accuracy per cycle, lag and family (fractions).
        value_add: WAPE of the naive, statistical and consensus forecasts and the gains (fractions).
        trend: All-family accuracy by target month at the reported lags (fractions).
        bias: Bias (a fraction) and tracking signal per family.
        adherence: Planned vs actual demand, supply and production (`plan_adherence`).
        service: Estimated fill rate and service level (fractions).
        inventory: Stock on hand vs target and vs the last plan (`inventory_vs_target`).
        decision_log: Every decision with its state.
        alerts: The alerts that fired (`ALERT_COLUMNS`).
        stability: How much each cycle's plan moved against the one before (`stability_by_cycle`).
        notes: Sentences on what could not be scored yet.
        service_target: The fill-rate target (a fraction), for the report's tiles.

    Example:
        >>> fu = run(so.steps.context("follow_up", p))   # doctest: +SKIP
        >>> list(fu.products)                            # doctest: +SKIP
        ['alerts', 'accuracy_by_lag', 'decision_log', 'value_add', 'bias', 'plan_adherence', 'service', 'inventory_vs_target', 'plan_sources']
    """

    period: str
    sources: pd.DataFrame
    scored: pd.DataFrame
    accuracy_by_lag: pd.DataFrame
    value_add: pd.DataFrame
    trend: pd.DataFrame
    bias: pd.DataFrame
    adherence: pd.DataFrame
    service: pd.DataFrame
    inventory: pd.DataFrame
    decision_log: pd.DataFrame
    alerts: pd.DataFrame
    stability: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STABILITY_BY_CYCLE_COLUMNS))
    notes: list[str] = field(default_factory=list)
    service_target: float = 0.95

    @property
    def first_run(self) -> bool:
        """True when no earlier cycle was found (nothing to score yet)."""
        return self.sources.empty

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """The step's products: `alerts, accuracy_by_lag, decision_log, value_add, bias,
        plan_adherence, service, inventory_vs_target, plan_sources, plan_stability`."""
        return {
            "alerts": self.alerts,
            "accuracy_by_lag": self.accuracy_by_lag,
            "decision_log": self.decision_log,
            "value_add": self.value_add,
            "bias": self.bias,
            "plan_adherence": self.adherence,
            "service": self.service,
            "inventory_vs_target": self.inventory,
            "plan_sources": self.sources,
            "plan_stability": self.stability,
        }


def _notes(plans, scored: pd.DataFrame, out) -> list[str]:
    notes = []
    if plans.sources.empty:
        notes.append(
            "No earlier cycle was found in the reports folder: follow-up starts after the first cycle. "
            "Run earlier periods (salesops backfill FROM TO) to see accuracy and adherence now."
        )
    elif scored.empty:
        notes.append(
            "Earlier plans exist but none of their months has an actual yet: accuracy starts when "
            "the first planned month is in the history."
        )
    proposed = plans.sources.loc[plans.sources["source"] == PROPOSED, "period"].tolist()
    if proposed:
        notes.append(
            f"No approved plan of record for {', '.join(proposed)}: the proposed plan is scored instead."
        )
    return notes


def run(ctx) -> FollowUp:
    """The follow-up (notebook 06): score earlier cycles' plans, check execution and decisions, alert.

    Reads this run's demand history and (optional) products, supply and inventory tables, and the
    earlier periods' plans through `ctx.reports` and `salesops.plan_of_record`.

    Args:
        ctx: The follow-up's step context (`salesops.steps.context("follow_up", p)`).

    Returns:
        The follow-up; `ctx.save(fu)` writes its products.

    Raises:
        DataError: The demand history is missing, or an earlier plan file is damaged.
        ParameterError: A recorded decision is invalid.

    Example:
        >>> fu = run(so.steps.context("follow_up", p))   # doctest: +SKIP
        >>> fu.alerts.columns.tolist()                    # doctest: +SKIP
        ['severity', 'kind', 'subject', 'message', 'value', 'threshold']
    """
    p = ctx.p
    period = ctx.period
    history = ctx.read("data_collection", "demand_history")
    products = ctx.table("products", default=None)
    supply = ctx.table("supply", default=None)
    inventory = ctx.table("inventory", default=None)
    plans = load_past_plans(ctx.reports, period, p.supply.strategy)
    scored = scored_forecasts(plans, history, period, p.demand.season_length)
    accuracy = accuracy_by_lag(scored)
    bias = bias_by_family(scored, p.alerts.tracking_window)
    service = service_levels(plans, history, supply, period)
    log = decision_log(collect_decisions(p), period)
    return FollowUp(
        period=period,
        sources=plans.sources,
        scored=scored,
        accuracy_by_lag=accuracy,
        value_add=value_add(accuracy),
        trend=accuracy_trend(accuracy, p.alerts.tracking_window),
        bias=bias,
        adherence=plan_adherence(plans, history, supply, products, period),
        service=service,
        inventory=inventory_vs_target(inventory, products, plans, period),
        decision_log=log,
        alerts=alerts(accuracy, bias, service, log, p.alerts),
        stability=stability_by_cycle(plans, ctx.read("demand_planning", "demand_plan", default=None), period),
        notes=_notes(plans, scored, p.out),
        service_target=p.alerts.service_target,
    )
