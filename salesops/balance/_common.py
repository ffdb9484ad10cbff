"""Helpers the pre-S&OP modules share: month starts, percentage adjustments, a supply plan's frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..params import Adjustment

SUPPLY_FRAMES = ("capacity_load", "production_plan", "inventory_projection", "strategy_summary")


def month_start(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """The first day of the month a value falls in.

    Args:
        value: A date, a `YYYY-MM` string, or None.

    Returns:
        The month's first day, or None for None.
    """
    return None if value is None else pd.Timestamp(value).to_period("M").to_timestamp()


def supply_frames(supply_plan) -> dict[str, pd.DataFrame]:
    """The four frames of a supply plan.

    Args:
        supply_plan: A `salesops.supply.SupplyPlan`, or a mapping holding its frames by name.

    Returns:
        `capacity_load`, `production_plan`, `inventory_projection` and `strategy_summary` by name.
    """
    if isinstance(supply_plan, Mapping):
        return {n: supply_plan[n] for n in SUPPLY_FRAMES}
    return {n: getattr(supply_plan, n) for n in SUPPLY_FRAMES}


def adjustment_factor(
    keys: pd.DataFrame, adjustments: Sequence[Adjustment], month_col: str, match: Mapping[str, str]
) -> np.ndarray:
    """Multiplier per row of `keys` from percentage adjustments.

    Each adjustment applies from its `from` month through its `until` month (both optional) to the
    rows it selects; adjustments that overlap multiply.

    Args:
        keys: The rows to scale, with the month column and the columns `match` names.
        adjustments: The percentage changes.
        month_col: The column of `keys` holding the month.
        match: Adjustment attribute (`family`, `sku`, `resource`) to the column of `keys` it selects.

    Returns:
        One factor per row of `keys` (1.0 where no adjustment applies).
    """
    factor = np.ones(len(keys))
    for adj in adjustments:
        mask = np.ones(len(keys), dtype=bool)
        for attr, column in match.items():
            wanted = getattr(adj, attr)
            if wanted is not None:
                mask &= (keys[column].astype(str) == str(wanted)).to_numpy()
        start, end = month_start(adj.start), month_start(adj.end)
        if start is not None:
            mask &= (keys[month_col] >= start).to_numpy()
        if end is not None:
            mask &= (keys[month_col] <= end).to_numpy()
        factor[mask] *= 1 + adj.pct / 100
    return factor
