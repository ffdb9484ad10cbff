"""Loads the public benchmark data sets from ../shared/data as long frames `unique_id, ds, y`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = {"pbs-monthly": 18, "aus-retail": 24}  # name -> held-out months


def load(name: str) -> pd.DataFrame:
    """`unique_id, ds, y` for 'pbs-monthly' (Scripts by Concession x Type x ATC2) or 'aus-retail'."""
    if name == "pbs-monthly":
        raw = pd.read_csv(DATA / "pbs-monthly" / "pbs_monthly.csv.gz")
        raw["unique_id"] = raw["Concession"] + "|" + raw["Type"] + "|" + raw["ATC2"]
        value = "Scripts"
    elif name == "aus-retail":
        raw = pd.read_csv(DATA / "aus-retail" / "aus_retail_monthly.csv.gz")
        raw["unique_id"] = raw["State"] + "|" + raw["Industry"]
        value = "Turnover"
    else:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    out = pd.DataFrame(
        {
            "unique_id": raw["unique_id"],
            "ds": pd.to_datetime(raw["Month"], format="%Y-%m"),
            "y": raw[value].astype(float),
        }
    )
    return out.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def split(df: pd.DataFrame, holdout: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last `holdout` months of each series as test, the rest as train."""
    rank = df.groupby("unique_id").cumcount(ascending=False)
    return df[rank >= holdout].reset_index(drop=True), df[rank < holdout].reset_index(drop=True)
