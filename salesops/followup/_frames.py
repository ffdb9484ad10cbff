"""Small helpers shared by the follow-up modules: empty frames with columns, month arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd

TOTAL = "Total"
"""The `family` of the all-families rows."""


def empty(columns: list[str]) -> pd.DataFrame:
    """An empty frame with `columns` (object dtype), so an empty product keeps its schema."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def month_number(months) -> np.ndarray:
    """Months as consecutive integers (year*12 + month-1) so lags are plain differences."""
    stamps = pd.DatetimeIndex(pd.to_datetime(months))
    return np.asarray(stamps.year * 12 + stamps.month - 1, dtype="int64")


def from_month_number(numbers) -> pd.DatetimeIndex:
    """The first days of the months `month_number` numbered."""
    numbers = np.asarray(numbers, dtype="int64")
    return pd.DatetimeIndex(pd.to_datetime({"year": numbers // 12, "month": numbers % 12 + 1, "day": 1}))


def period_start(period: str) -> pd.Timestamp:
    """The first day of `period` (`YYYY-MM`)."""
    return pd.Timestamp(f"{period}-01")
