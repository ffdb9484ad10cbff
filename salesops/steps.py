"""The steps of the cycle, in run order, with what each reads and writes (ploomber-style)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .exceptions import ParameterError
from .params import Params
from .store import StepStore

INPUT_TABLES = (
    "sales",
    "products",
    "inventory",
    "capacity",
    "supply",
    "budget",
    "opportunities",
    "reps",
    "quotas",
    "survey",
)


@dataclass(frozen=True)
class Step:
    name: str
    notebook: str
    report: str
    upstream: tuple[str, ...] = ()
    products: tuple[str, ...] = field(default_factory=tuple)
    title: str = ""
    imports: tuple[str, ...] = ()  # slow imports of the notebook, done ahead in a warm kernel (runner)


STEPS: tuple[Step, ...] = (
    Step(
        "data_collection",
        "01_data_collection.ipynb",
        "01_data_collection.html",
        (),
        INPUT_TABLES + ("demand_history", "findings"),
        "Data collection",
        ("salesops.data",),
    ),
    Step(
        "sales_performance",
        "07_sales_performance.ipynb",
        "07_sales_performance.html",
        ("data_collection",),
        ("pipeline_forecast", "attainment", "rep_comparison", "payouts", "enps", "funnel"),
        "Sales performance",
        ("salesops.sales",),
    ),
    Step(
        "demand_planning",
        "02_demand_planning.ipynb",
        "02_demand_planning.html",
        ("data_collection", "sales_performance"),
        ("forecast", "demand_plan", "error_stats", "backtest", "accuracy", "overrides_audit"),
        "Demand planning",
        ("salesops.demand",),
    ),
    Step(
        "supply_planning",
        "03_supply_planning.ipynb",
        "03_supply_planning.html",
        ("data_collection", "demand_planning"),
        ("capacity_load", "production_plan", "inventory_projection", "strategy_summary"),
        "Supply planning",
        ("salesops.supply",),
    ),
    Step(
        "pre_sop",
        "04_pre_sop.ipynb",
        "04_pre_sop.html",
        ("data_collection", "demand_planning", "supply_planning"),
        ("gaps", "exceptions", "scenarios", "recommendations", "scenario_plans", "scenario_demand"),
        "Pre-S&OP review",
        ("salesops.balance",),
    ),
    Step(
        "executive_review",
        "05_executive_review.ipynb",
        "05_executive_review.html",
        ("data_collection", "demand_planning", "supply_planning", "pre_sop", "sales_performance"),
        ("kpis", "decisions", "plan_of_record", "plan_status"),
        "Executive S&OP review",
        ("salesops.plan", "salesops.balance"),
    ),
    Step(
        "follow_up",
        "06_follow_up.ipynb",
        "06_follow_up.html",
        ("data_collection", "demand_planning", "executive_review"),
        (
            "alerts",
            "accuracy_by_lag",
            "decision_log",
            "value_add",
            "bias",
            "plan_adherence",
            "service",
            "inventory_vs_target",
            "plan_sources",
        ),
        "Implementation and follow-up",
        ("salesops.followup",),
    ),
)
STEP_NAMES = tuple(s.name for s in STEPS)


def get(name: str) -> Step:
    for step in STEPS:
        if step.name == name:
            return step
    raise ParameterError(f"unknown step '{name}'; choose one of: {', '.join(STEP_NAMES)}")


def select(first: str | None = None, last: str | None = None) -> list[Step]:
    """The steps from `first` to `last` inclusive, in run order."""
    names = list(STEP_NAMES)
    i = names.index(get(first).name) if first else 0
    j = names.index(get(last).name) if last else len(names) - 1
    if i > j:
        raise ParameterError(f"--from {first} comes after --to {last} in the run order ({', '.join(names)})")
    return list(STEPS[i : j + 1])


class StepContext:
    """What a notebook uses: the parameters, earlier steps' products, and a place to write its own."""

    def __init__(self, step: str, p: Params):
        self.step = get(step)
        self.p = p
        self.store = StepStore(p.run_path)
        self._tables: dict[str, pd.DataFrame] = {}

    @property
    def period(self) -> str:
        return str(self.p.period)

    @property
    def period_start(self) -> pd.Timestamp:
        return self.p.period_start

    def read(self, step: str, name: str) -> pd.DataFrame:
        return self.store.read(step, name)

    def table(self, name: str) -> pd.DataFrame:
        """An input table of the period snapshot (validated by data collection)."""
        if name not in self._tables:
            self._tables[name] = self.store.read("data_collection", name)
        return self._tables[name].copy()

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Write one product of this step (returns nothing, so a notebook cell shows no path)."""
        if name not in self.step.products:
            raise ParameterError(
                f"step {self.step.name} does not declare a product '{name}'; add it to its "
                f"products in salesops/steps.py ({', '.join(self.step.products)})"
            )
        self.store.write(self.step.name, name, frame)


def context(step: str, p: Params) -> StepContext:
    """The context a step's notebook works in."""
    return StepContext(step, p)
