"""The plans of earlier cycles: the plan of record where one was approved, else the proposed plan.

Earlier runs are read through `salesops.store.ReportsStore` (their published products) and
`salesops.plan_of_record` (their frozen plans); this module builds no path of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..exceptions import DataError
from ..params import PERIOD_RE
from ..plan_of_record import plan_dir, read_plan
from ..store import ReportsStore
from ._frames import empty

__all__ = [
    "DEMAND_COLUMNS",
    "PLAN_OF_RECORD",
    "PRODUCTION_COLUMNS",
    "PROJECTION_COLUMNS",
    "PROPOSED",
    "SOURCE_COLUMNS",
    "PastPlans",
    "load_past_plans",
]

PLAN_OF_RECORD = "plan_of_record"
PROPOSED = "proposed"
SOURCE_COLUMNS = ["period", "source", "path", "rows", "skus", "first_month", "last_month"]
DEMAND_COLUMNS = ["period", "source", "unique_id", "family", "ds", "statistical", "consensus"]
PRODUCTION_COLUMNS = ["period", "family", "month", "production"]
PROJECTION_COLUMNS = [
    "period",
    "unique_id",
    "family",
    "month",
    "demand",
    "supply",
    "on_hand",
    "safety_stock",
    "shortage",
]


@dataclass
class PastPlans:
    """The plans of earlier cycles, one row per forecast (`period` = the cycle that made it).

    Attributes:
        demand: `period, source, unique_id, family, ds, statistical, consensus`.
        production: `period, family, month, production` (the family production plan).
        projection: The cycles' `inventory_projection` with a `period` column.
        sources: Which plan each period is judged by (`SOURCE_COLUMNS`).

    Example:
        >>> load_past_plans("reports", "2026-11").periods   # doctest: +SKIP
        ['2026-09', '2026-10']
    """

    demand: pd.DataFrame
    production: pd.DataFrame
    projection: pd.DataFrame
    sources: pd.DataFrame

    @property
    def periods(self) -> list[str]:
        """The cycles with a demand plan, oldest first."""
        return sorted(self.demand["period"].unique().tolist()) if len(self.demand) else []


def _recorded_periods(out: str | Path, before: str) -> list[str]:
    """Periods before `before` with a plan-of-record folder (`salesops.plan_of_record.plan_dir`)."""
    root = plan_dir(out, before).parent
    if not root.is_dir():
        return []
    return sorted(
        d.name for d in root.iterdir() if d.is_dir() and PERIOD_RE.match(d.name) and d.name < before
    )


def _unreadable(where, exc: Exception) -> DataError:
    return DataError(f"{where}: cannot read this plan file ({exc}); re-run that period or remove the file")


def _read_product(reports: ReportsStore, period: str, step: str, name: str) -> pd.DataFrame | None:
    """A product of an earlier run, None when missing; a damaged file is a `DataError` naming it."""
    try:
        return reports.read(period, step, name, default=None)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise _unreadable(reports.run(period).path(step, name), exc) from exc


def _read_plan_of_record(out: str | Path, period: str) -> pd.DataFrame | None:
    """The frozen plan of `period`, None when none was approved; a damaged one is a `DataError`."""
    try:
        return read_plan(out, period)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise _unreadable(plan_dir(out, period), exc) from exc


def _demand_rows(frame: pd.DataFrame, where) -> pd.DataFrame:
    missing = [c for c in ("unique_id", "ds", "consensus") if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: column(s) {', '.join(missing)} missing; a plan needs unique_id, ds and "
            "consensus (re-run that period's demand planning)"
        )
    rows = frame[frame["unique_id"].notna() & frame["ds"].notna() & frame["consensus"].notna()].copy()
    rows["ds"] = pd.to_datetime(rows["ds"])
    if "statistical" not in rows.columns:
        rows["statistical"] = rows["consensus"]
    if "family" not in rows.columns:
        rows["family"] = pd.NA
    rows["unique_id"] = rows["unique_id"].astype(str)
    return rows[["unique_id", "family", "ds", "statistical", "consensus"]]


def _production_rows(frame: pd.DataFrame, strategy: str | None) -> pd.DataFrame:
    if not {"family", "month", "production"} <= set(frame.columns):
        return empty(["family", "month", "production"])
    rows = frame[frame["month"].notna() & frame["production"].notna() & frame["family"].notna()].copy()
    if "strategy" in rows.columns and rows["strategy"].nunique() > 1:
        chosen = strategy if strategy in set(rows["strategy"]) else min(rows["strategy"].unique())
        rows = rows[rows["strategy"] == chosen]
    rows["month"] = pd.to_datetime(rows["month"])
    return rows.groupby(["family", "month"], as_index=False)["production"].sum()


def _cheapest_strategy(summary: pd.DataFrame | None) -> str | None:
    if summary is None or not {"strategy", "total_cost"} <= set(summary.columns) or summary.empty:
        return None
    return str(summary.sort_values("total_cost")["strategy"].iloc[0])


def load_past_plans(out: str | Path | ReportsStore, period: str, strategy: str | None = None) -> PastPlans:
    """Read the plans of every period before `period` in the reports folder.

    The plan of record (`salesops.plan_of_record.read_plan`) wins; without one the period's proposed
    `demand_planning/demand_plan` is used. Production comes from the plan of record when it holds a
    family production plan, else from the period's `supply_planning/production_plan` (`strategy`,
    default the cheapest in its `strategy_summary`, when it holds several).

    Args:
        out: The reports folder (`OUT`), or a `ReportsStore` over it.
        period: The current period (`YYYY-MM`); only earlier periods are read.
        strategy: The production strategy to score when a production plan holds several.

    Returns:
        The past plans; empty frames (with their columns) before the first cycle.

    Raises:
        DataError: A plan file is damaged or lacks `unique_id`, `ds` or `consensus`; the message
            names the file.

    Example:
        >>> load_past_plans("reports", "2026-11").sources[["period", "source"]]   # doctest: +SKIP
    """
    reports = out if isinstance(out, ReportsStore) else ReportsStore(out)
    periods = sorted(set(reports.periods(before=period)) | set(_recorded_periods(reports.out, period)))
    demand, production, projection, sources = [], [], [], []
    for past in periods:
        record = _read_plan_of_record(reports.out, past)
        recorded = _demand_rows(record, plan_dir(reports.out, past)) if record is not None else None
        if recorded is not None and len(recorded):
            rows, source, where = recorded, PLAN_OF_RECORD, plan_dir(reports.out, past)
        else:
            proposed = _read_product(reports, past, "demand_planning", "demand_plan")
            if proposed is None:
                continue
            where = reports.run(past).path("demand_planning", "demand_plan")
            rows, source = _demand_rows(proposed, where), PROPOSED
        rows.insert(0, "source", source)
        rows.insert(0, "period", past)
        demand.append(rows)
        sources.append(
            {
                "period": past,
                "source": source,
                "path": str(where),
                "rows": len(rows),
                "skus": rows["unique_id"].nunique(),
                "first_month": rows["ds"].min(),
                "last_month": rows["ds"].max(),
            }
        )
        planned = _production_rows(record, strategy) if record is not None else None
        if planned is None or planned.empty:
            plan = _read_product(reports, past, "supply_planning", "production_plan")
            if plan is not None:
                chosen = strategy
                if chosen is None:
                    summary = _read_product(reports, past, "supply_planning", "strategy_summary")
                    chosen = _cheapest_strategy(summary)
                planned = _production_rows(plan, chosen)
        if planned is not None and len(planned):
            production.append(planned.assign(period=past))
        proj = _read_product(reports, past, "supply_planning", "inventory_projection")
        if proj is not None:
            proj["month"] = pd.to_datetime(proj["month"])
            projection.append(proj.assign(period=past))
    return PastPlans(
        demand=pd.concat(demand, ignore_index=True) if demand else empty(DEMAND_COLUMNS),
        production=(
            pd.concat(production, ignore_index=True)[PRODUCTION_COLUMNS]
            if production
            else empty(PRODUCTION_COLUMNS)
        ),
        projection=pd.concat(projection, ignore_index=True) if projection else empty(PROJECTION_COLUMNS),
        sources=pd.DataFrame(sources, columns=SOURCE_COLUMNS) if sources else empty(SOURCE_COLUMNS),
    )
