"""Loads the public benchmark data sets from ../shared/data as long frames `unique_id, ds, y`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = {"pbs-monthly": 18, "aus-retail": 24}  # name -> held-out months
EXTRA = {"demo": 12}  # the demo company's SKUs (48 months to 2026-10): accuracy only, not the speed pool


def load(name: str) -> pd.DataFrame:
    """`unique_id, ds, y` for 'pbs-monthly' (Scripts by Concession x Type x ATC2), 'aus-retail' or 'demo'
    (the demo company's monthly units per SKU; months without sales are filled with 0 by the forecaster)."""
    if name == "pbs-monthly":
        raw = pd.read_csv(DATA / "pbs-monthly" / "pbs_monthly.csv.gz")
        raw["unique_id"] = raw["Concession"] + "|" + raw["Type"] + "|" + raw["ATC2"]
        value = "Scripts"
    elif name == "aus-retail":
        raw = pd.read_csv(DATA / "aus-retail" / "aus_retail_monthly.csv.gz")
        raw["unique_id"] = raw["State"] + "|" + raw["Industry"]
        value = "Turnover"
    elif name == "demo":
        from salesops.data.demo import generate_demo

        raw = generate_demo()["sales"]
        raw["unique_id"] = raw["sku"]
        raw["Month"] = raw["date"].str[:7]
        raw = raw.groupby(["unique_id", "Month"], as_index=False)["quantity"].sum()
        # every SKU runs from its first sale to the last month, months without sales count 0 (as in the step)
        wide = raw.pivot(index="Month", columns="unique_id", values="quantity").sort_index()
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="M").strftime("%Y-%m"))
        started = wide.notna().cumsum() > 0
        raw = wide.fillna(0).where(started).stack().dropna().rename("quantity").reset_index()
        raw.columns = ["Month", "unique_id", "quantity"]
        value = "quantity"
    else:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join([*DATASETS, *EXTRA])}")
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
