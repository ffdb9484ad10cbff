"""salesops: the monthly Sales & Operations Planning cycle as parameterized notebooks and reports."""

from __future__ import annotations

import importlib

from .exceptions import AlertError, DataError, LockError, ParameterError, PlanError, SalesOpsError, StepError

__version__ = "0.1.0"
__all__ = [
    "AlertError",
    "DataError",
    "LockError",
    "ParameterError",
    "PlanError",
    "SalesOpsError",
    "StepError",
    "__version__",
    "forecast",
]

_SUBMODULES = {
    "params",
    "steps",
    "store",
    "report",
    "charts",
    "data",
    "demand",
    "metrics",
    "supply",
    "balance",
    "executive",
    "plan_of_record",
    "followup",
    "sales",
    "render",
    "runner",
    "cli",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "forecast":
        return importlib.import_module(".demand", __name__).forecast
    raise AttributeError(f"module 'salesops' has no attribute '{name}'")
