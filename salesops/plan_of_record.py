"""The plan of record: the approved plan of a period, frozen and never replaced silently.

The plan of record of a period is the approved scenario's SKU demand plan (`consensus`) and family
production plan, frozen when `executive.approved_by` is set, in `OUT/plans/PERIOD/`:

* `plan.parquet`: one frame; demand rows (`kind = demand`: `unique_id, family, ds, statistical,
  consensus`) and production rows (`kind = production`: `family, month, demand, production,
  inventory, backlog`), each with the `scenario` it came from;
* `plan.json`: period, approved_by, approved_on, scenario, sha256 hash of the plan, version, decisions.

An identical plan is a no-op; a different one raises `PlanError` unless re-approved
(`salesops run PERIOD --reapprove`), which keeps the old files as `plan.vN.parquet` / `plan.vN.json`.
This module is the only one that knows where those files live (`plan_dir`, `read_record`, `read_plan`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import ParameterError, PlanError
from .params import Decision, Params

PLAN_COLUMNS = [
    "scenario",
    "kind",
    "unique_id",
    "family",
    "ds",
    "statistical",
    "consensus",
    "month",
    "demand",
    "production",
    "inventory",
    "backlog",
]
STATUS_COLUMNS = [
    "period",
    "status",
    "approved_by",
    "approved_on",
    "hash",
    "scenario",
    "version",
    "current_hash",
    "path",
]


@dataclass
class PlanStatus:
    """Where the plan of record of a period stands after this run.

    Attributes:
        period: The period, `YYYY-MM`.
        status: `approved` or `proposed`.
        approved_by: Who approved the plan of record, if anyone.
        approved_on: When, `YYYY-MM-DD`.
        hash: The hash of the plan of record (`plan_hash`), if one exists.
        scenario: The scenario of the plan.
        version: The version of the plan of record (1, 2, ... after re-approvals), if one exists.
        current_hash: The hash of this run's plan.
        path: The folder of the plan of record, if one exists.
        message: What happened, for the log.
    """

    period: str
    status: str  # approved or proposed
    approved_by: str | None
    approved_on: str | None
    hash: str | None
    scenario: str
    version: int | None
    current_hash: str
    path: str | None
    message: str = ""

    @property
    def kind(self) -> str:
        """`good` when this run's plan is the approved one, else `warn` (for `salesops.report.callout`)."""
        return "good" if self.status == "approved" and self.hash == self.current_hash else "warn"

    def frame(self) -> pd.DataFrame:
        """One row `plan_status` (`STATUS_COLUMNS`), what the runner copies into run.json.

        Returns:
            The one-row frame.
        """
        return pd.DataFrame(
            [{k: v for k, v in asdict(self).items() if k in STATUS_COLUMNS}], columns=STATUS_COLUMNS
        )


def plan_frame(
    scenario_demand: pd.DataFrame,
    scenario_plans: pd.DataFrame,
    scenario: str,
    demand_plan: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The plan of one scenario as a plan of record (`PLAN_COLUMNS`): SKU demand + family production.

    `statistical` comes from `demand_plan` (the statistical forecast is the same in every scenario).

    Args:
        scenario_demand: Every scenario's SKU demand (`scenario, unique_id, ds, ...`).
        scenario_plans: Every scenario's family production plans (`scenario, family, month, ...`).
        scenario: The scenario to take.
        demand_plan: The demand plan, for `statistical`.

    Returns:
        The plan of record's rows (`PLAN_COLUMNS`): demand rows, then production rows.

    Raises:
        ParameterError: `scenario` is not a scenario of this run.
    """
    known = sorted(scenario_plans["scenario"].unique())
    if scenario not in known:
        raise ParameterError(
            f"executive.scenario = '{scenario}' is not a scenario of this run "
            f"(scenarios: {', '.join(known)}); set it to one of them or leave it empty"
        )
    dem = scenario_demand[scenario_demand["scenario"] == scenario].copy()
    dem["ds"] = pd.to_datetime(dem["ds"])
    if demand_plan is not None and "statistical" in demand_plan.columns:
        stat = demand_plan[["unique_id", "ds", "statistical"]].assign(ds=lambda f: pd.to_datetime(f["ds"]))
        dem = dem.merge(stat, on=["unique_id", "ds"], how="left")
    dem["kind"] = "demand"
    prod = scenario_plans[scenario_plans["scenario"] == scenario].copy()
    prod["month"] = pd.to_datetime(prod["month"])
    prod["kind"] = "production"
    out = pd.concat([dem, prod], ignore_index=True)
    for col in PLAN_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out = out[PLAN_COLUMNS].sort_values(
        ["kind", "family", "unique_id", "ds", "month"], ignore_index=True, na_position="first"
    )
    return out


def plan_hash(frame: pd.DataFrame) -> str:
    """sha256 of a plan: rows sorted, numbers rounded to 6 decimals, written as CSV.

    Args:
        frame: The plan.

    Returns:
        The hex digest: the same rows in any order, the same hash.

    Example:
        >>> a = pd.DataFrame({"family": ["F", "G"], "production": [1.0, 2.0]})
        >>> plan_hash(a) == plan_hash(a.iloc[::-1]) and plan_hash(a) != plan_hash(a.assign(production=[1.0, 2.5]))
        True
    """
    canon = frame[sorted(frame.columns)].copy()
    for col in canon.columns:
        if pd.api.types.is_float_dtype(canon[col]):
            canon[col] = canon[col].round(6)
        elif pd.api.types.is_datetime64_any_dtype(canon[col]):
            canon[col] = canon[col].dt.strftime("%Y-%m-%d")
    canon = canon.astype(str).sort_values(list(canon.columns), ignore_index=True)
    return hashlib.sha256(canon.to_csv(index=False, lineterminator="\n").encode()).hexdigest()


def plan_dir(out: str | Path, period: str) -> Path:
    """`OUT/plans/PERIOD`: where the plan of record of a period lives.

    Args:
        out: The reports folder.
        period: The period, `YYYY-MM`.

    Returns:
        The folder (it may not exist).

    Example:
        >>> plan_dir("reports", "2026-11").as_posix()
        'reports/plans/2026-11'
    """
    return Path(out) / "plans" / period


def read_record(out: str | Path, period: str) -> dict | None:
    """The `plan.json` of a period's plan of record, or None when none was approved.

    Args:
        out: The reports folder.
        period: The period, `YYYY-MM`.

    Returns:
        The record as a dict, or None.

    Raises:
        PlanError: The file exists but cannot be read.
    """
    path = plan_dir(out, period) / "plan.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PlanError(
            f"{path}: the plan of record cannot be read ({exc}); restore it from a plan.vN.json "
            "or remove the folder to approve again"
        ) from exc


def _atomic_write_bytes(path: Path, data: bytes):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _next_version(folder: Path) -> int:
    n = 1
    while (folder / f"plan.v{n}.json").exists() or (folder / f"plan.v{n}.parquet").exists():
        n += 1
    return n


def freeze(plan: pd.DataFrame, p: Params, scenario: str, taken: Sequence[Decision] = ()) -> PlanStatus:
    """Freeze the plan of record of `p.period` when `p.executive.approved_by` is set.

    * not approved: nothing is written; status `proposed` (or the existing record's, if any).
    * approved and no record: `plan.parquet` + `plan.json` are written (version 1).
    * a record with the same hash: nothing changes (no-op).
    * a record with another hash: `PlanError`, unless `p.reapprove`, which keeps the old files as
      `plan.vN.*` and writes the new plan as version N+1.

    Args:
        plan: The plan (`plan_frame`).
        p: The validated parameters with a period (`p.executive.approved_by`, `p.reapprove`, `p.out`).
        scenario: The scenario of the plan.
        taken: The decisions entered in params, recorded in `plan.json`.

    Returns:
        Where the plan of record stands (`PlanStatus`).

    Raises:
        PlanError: An approved plan of record with another hash exists and `p.reapprove` is not set,
            or the existing record cannot be read.

    Example:
        >>> status = freeze(plan_frame(demand, plans, "baseline"), p, "baseline")  # doctest: +SKIP
        >>> status.status  # doctest: +SKIP
        'approved'
    """
    period = str(p.period)
    folder = plan_dir(p.out, period)
    current = plan_hash(plan)
    record = read_record(p.out, period)
    if not p.executive.approved_by:
        return _unapproved_status(period, folder, current, record, scenario)
    approved_on = (p.executive.approved_on or dt.date.today()).isoformat()
    version = 1
    if record is not None:
        if record.get("hash") == current:
            return _reproduced_status(period, folder, current, record, scenario)
        if not p.reapprove:
            raise _replacement_refused(period, folder, current, record)
        version = _archive_record(folder) + 1
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "period": period,
        "approved_by": p.executive.approved_by,
        "approved_on": approved_on,
        "scenario": scenario,
        "hash": current,
        "version": version,
        "decisions": [d.model_dump(mode="json") for d in taken],
        "frozen_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    _write_record(plan, folder, meta)
    return _frozen_status(folder, meta)


def _unapproved_status(
    period: str, folder: Path, current: str, record: dict | None, scenario: str
) -> PlanStatus:
    """The status without an approval in params: `proposed`, or the existing record's."""
    if record is None:
        return PlanStatus(
            period,
            "proposed",
            None,
            None,
            None,
            scenario,
            None,
            current,
            None,
            f"Not approved yet: set executive.approved_by (and approved_on) in params/{period}.yaml "
            "and run again to freeze this plan as the plan of record.",
        )
    same = record.get("hash") == current
    return PlanStatus(
        period,
        "approved",
        record.get("approved_by"),
        record.get("approved_on"),
        record.get("hash"),
        record.get("scenario", scenario),
        record.get("version"),
        current,
        str(folder / "plan.parquet"),
        f"The plan of record was approved by {record.get('approved_by')} on "
        f"{record.get('approved_on')}; "
        + (
            "this run's plan is the same."
            if same
            else "this run's plan differs from it and is only a proposal."
        ),
    )


def _reproduced_status(period: str, folder: Path, current: str, record: dict, scenario: str) -> PlanStatus:
    """The status when this run's approved plan is the plan of record already (nothing is written)."""
    return PlanStatus(
        period,
        "approved",
        record.get("approved_by"),
        record.get("approved_on"),
        current,
        record.get("scenario", scenario),
        record.get("version"),
        current,
        str(folder / "plan.parquet"),
        f"Plan of record: scenario {record.get('scenario', scenario)}, approved by "
        f"{record.get('approved_by')} on {record.get('approved_on')} (version "
        f"{record.get('version')}, sha256 {current[:12]}); this run reproduces it exactly.",
    )


def _replacement_refused(period: str, folder: Path, current: str, record: dict) -> PlanError:
    """The error for an approved plan that differs from the plan of record without `--reapprove`."""
    return PlanError(
        f"the plan of record of {period} was approved by {record.get('approved_by')} on "
        f"{record.get('approved_on')} (scenario {record.get('scenario')}, hash {str(record.get('hash'))[:12]}) "
        f"and this run's plan differs (hash {current[:12]}). An approved plan is never replaced silently: "
        f"to approve the new plan run `salesops run {period} --reapprove` (the old plan is kept as "
        f"plan.v{_next_version(folder)}.parquet/.json in {folder}), or restore the inputs and params "
        "that produced the approved plan."
    )


def _archive_record(folder: Path) -> int:
    """Keep the current plan of record as `plan.vN.*` and return N."""
    old = _next_version(folder)
    for suffix in ("parquet", "json"):
        os.replace(folder / f"plan.{suffix}", folder / f"plan.v{old}.{suffix}")
    return old


def _write_record(plan: pd.DataFrame, folder: Path, meta: dict) -> None:
    """Write `plan.parquet` and `plan.json` (with what it supersedes after a re-approval)."""
    version = meta["version"]
    if version > 1:
        meta["supersedes"] = f"plan.v{version - 1}.json"
    tmp = folder / ".plan.parquet.tmp"
    plan.to_parquet(tmp, index=False)
    os.replace(tmp, folder / "plan.parquet")
    _atomic_write_bytes(folder / "plan.json", json.dumps(meta, indent=2).encode())


def _frozen_status(folder: Path, meta: dict) -> PlanStatus:
    """The status after a plan of record was frozen (approved or re-approved) from its `plan.json`."""
    period, version, current = meta["period"], meta["version"], meta["hash"]
    approved_by, approved_on, scenario = meta["approved_by"], meta["approved_on"], meta["scenario"]
    verb = "Re-approved" if version > 1 else "Approved"
    return PlanStatus(
        period,
        "approved",
        approved_by,
        approved_on,
        current,
        scenario,
        version,
        current,
        str(folder / "plan.parquet"),
        f"{verb}: the plan of record of {period} (scenario {scenario}, version {version}, sha256 "
        f"{current[:12]}) was frozen by {approved_by} on {approved_on}; changing it later "
        f"needs an explicit re-approval (salesops run {period} --reapprove).",
    )


def read_plan(out: str | Path, period: str) -> pd.DataFrame | None:
    """The frozen plan of record of `period`, or None when none was approved.

    Args:
        out: The reports folder (`OUT`).
        period: The period (`YYYY-MM`).

    Returns:
        The `plan.parquet` frame (`PLAN_COLUMNS`), or None.
    """
    path = plan_dir(out, period) / "plan.parquet"
    return pd.read_parquet(path) if path.exists() else None
