"""Demand planning: statsforecast-shaped models on statsmodels, the default combination, a parallel
engine (local processes or dask), rolling-origin backtests, hierarchy and consensus.

Example:
    >>> import salesops.demand as demand
    >>> fc = demand.forecast(history, horizon=18)  # doctest: +SKIP
"""

from __future__ import annotations

from . import consensus, hierarchy
from .auto import AutoCombo
from .engine import backtest, forecast, forecast_file, prepare
from .models import ARIMA, ETS, SBA, STLETS, TSB, Croston, HistoricAverage, Naive, SeasonalNaive, Theta
from .planning import DemandPlan, plan_stability, run

Default = AutoCombo

__all__ = [
    "ARIMA",
    "ETS",
    "SBA",
    "STLETS",
    "TSB",
    "AutoCombo",
    "Croston",
    "Default",
    "DemandPlan",
    "HistoricAverage",
    "Naive",
    "SeasonalNaive",
    "Theta",
    "backtest",
    "consensus",
    "forecast",
    "forecast_file",
    "hierarchy",
    "plan_stability",
    "prepare",
    "run",
]


def __getattr__(name: str):
    if name == "charts":  # Altair loads only when a report asks for a chart
        import importlib

        return importlib.import_module(".charts", __name__)
    raise AttributeError(f"module 'salesops.demand' has no attribute '{name}'")
