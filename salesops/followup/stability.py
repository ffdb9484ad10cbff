"""Plan stability across cycles: how much each cycle's plan moved against the cycle before."""

from __future__ import annotations

import itertools

import pandas as pd

from ..demand.planning import STABILITY_COLUMNS, plan_stability
from .past_plans import PastPlans

__all__ = ["STABILITY_BY_CYCLE_COLUMNS", "stability_by_cycle"]

STABILITY_BY_CYCLE_COLUMNS = ["period", *STABILITY_COLUMNS]


def stability_by_cycle(plans: PastPlans, current: pd.DataFrame | None, period: str) -> pd.DataFrame:
    """Each cycle's plan against the previous cycle's, per family and in total.

    Args:
        plans: The earlier cycles' plans (`load_past_plans`); the plan each is judged by.
        current: This cycle's demand plan (`unique_id, family, ds, consensus`), or None.
        period: This cycle's period (`YYYY-MM`).

    Returns:
        `period` (the later cycle of each pair) and the columns of
        `salesops.demand.plan_stability`; empty before the second cycle.

    Example:
        >>> stability_by_cycle(load_past_plans(store, "2026-11"), demand_plan, "2026-11")  # doctest: +SKIP
    """
    cycles = {p: f for p, f in plans.demand.groupby("period", sort=True)} if len(plans.demand) else {}
    if current is not None and len(current):
        cycles[period] = current
    ordered = sorted(cycles)
    parts = [
        plan_stability(cycles[later], cycles[earlier]).assign(period=later)
        for earlier, later in itertools.pairwise(ordered)
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=STABILITY_BY_CYCLE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[STABILITY_BY_CYCLE_COLUMNS]
