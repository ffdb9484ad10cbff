"""Checks and light normalisation of the sales input tables, shared by the sales modules."""

from __future__ import annotations

import pandas as pd

from ..exceptions import DataError

WON, LOST = "won", "lost"
OPEN_STAGES = ("prospecting", "qualified", "proposal")
UNKNOWN = "(unassigned)"

REQUIRED = {
    "opportunities": ("opportunity_id", "rep", "stage", "amount", "created_date", "close_date"),
    "reps": ("rep", "team", "region"),
    "quotas": ("rep", "month", "quota"),
    "survey": ("respondent", "team", "date", "score"),
    "products": ("sku", "family", "unit_price"),
}


def require(frame: pd.DataFrame, table: str) -> None:
    """Raise `DataError` naming the table and the missing columns."""
    missing = [c for c in REQUIRED[table] if c not in frame.columns]
    if missing:
        raise DataError(
            f"{table}: missing column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))}); "
            f"add them or map them with data.tables.{table}.columns in params"
        )


def month_start(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M").dt.to_timestamp()


def opportunities(frame: pd.DataFrame) -> pd.DataFrame:
    """Opportunities with Timestamps, numeric amounts and lower-case stages."""
    require(frame, "opportunities")
    out = frame.copy()
    out["stage"] = out["stage"].astype("string").str.strip().str.lower()
    for col in ("created_date", "close_date"):
        out[col] = pd.to_datetime(out[col])
    out["amount"] = pd.to_numeric(out["amount"], errors="coerce").astype(float)
    if "sku" not in out.columns:
        out["sku"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out


def reps(frame: pd.DataFrame | None, opps: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reps table plus any rep found only in the opportunities (team and region '(unassigned)')."""
    if frame is None:
        frame = pd.DataFrame(columns=list(REQUIRED["reps"]))
    require(frame, "reps")
    out = frame.copy()
    if opps is not None and len(opps):
        extra = sorted(set(opps["rep"].dropna()) - set(out["rep"]))
        if extra:
            out = pd.concat(
                [out, pd.DataFrame({"rep": extra, "team": UNKNOWN, "region": UNKNOWN})], ignore_index=True
            )
    out["team"] = out["team"].fillna(UNKNOWN)
    out["region"] = out["region"].fillna(UNKNOWN)
    if "start_date" in out.columns:
        out["start_date"] = pd.to_datetime(out["start_date"])
    return out.drop_duplicates("rep").reset_index(drop=True)


def quotas(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Quotas with `month` at the month's first day; several rows of a rep and month are added up."""
    if frame is None:
        frame = pd.DataFrame(columns=list(REQUIRED["quotas"]))
    require(frame, "quotas")
    out = frame.loc[:, ["rep", "month", "quota"]].copy()
    out["month"] = month_start(out["month"])
    out["quota"] = pd.to_numeric(out["quota"], errors="coerce").astype(float)
    return out.groupby(["rep", "month"], as_index=False)["quota"].sum()


def products(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        frame = pd.DataFrame(columns=list(REQUIRED["products"]))
    require(frame, "products")
    out = frame.loc[:, ["sku", "family", "unit_price"]].drop_duplicates("sku").copy()
    out["unit_price"] = pd.to_numeric(out["unit_price"], errors="coerce").astype(float)
    return out
