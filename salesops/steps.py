"""The steps of the cycle, in run order, with what each reads and writes (ploomber-style).

Every step has one entry point, `run(ctx) -> StepResult`, in its package (`salesops.data`,
`salesops.sales`, `salesops.demand`, `salesops.supply`, `salesops.balance`, `salesops.executive`,
`salesops.followup`). A notebook builds the context, calls `run`, shows the result, and saves every
product with one call:

Example:
    >>> import salesops as so                                          # doctest: +SKIP
    >>> ctx = so.steps.context("demand_planning", p)                   # doctest: +SKIP
    >>> plan = so.demand.run(ctx)                                      # doctest: +SKIP
    >>> ctx.save(plan)                                                 # doctest: +SKIP

`ctx.read(step, name)` refuses a step outside the reader's declared `upstream`, as ploomber does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .exceptions import ParameterError, UpstreamError
from .params import Params
from .store import REQUIRED, ReportsStore, StepStore

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
    "accounts",
    "opportunity_history",
)


@dataclass(frozen=True)
class Step:
    """One step of the cycle: its notebook and report, the steps it reads, the products it writes.

    Attributes:
        name: The step's name (`--from NAME`).
        notebook: The notebook file in `notebooks/`.
        report: The HTML report's file name.
        upstream: The steps whose products this step may read.
        products: The frames this step writes (all of them, every run).
        title: The report's title.
        imports: Slow imports of the notebook, done ahead in a warm kernel by the runner.
    """

    name: str
    notebook: str
    report: str
    upstream: tuple[str, ...] = ()
    products: tuple[str, ...] = field(default_factory=tuple)
    title: str = ""
    imports: tuple[str, ...] = ()


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
        (
            "pipeline_forecast",
            "attainment",
            "rep_comparison",
            "payouts",
            "enps",
            "funnel",
            "open_pipeline",
            "win_model_evaluation",
            "territories",
            "pipeline_calibration",
        ),
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
        ("salesops.executive", "salesops.balance"),
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
            "plan_stability",
        ),
        "Implementation and follow-up",
        ("salesops.followup",),
    ),
)
STEP_NAMES = tuple(s.name for s in STEPS)


def get(name: str) -> Step:
    """The step called `name`.

    Args:
        name: A step name.

    Returns:
        The step.

    Raises:
        ParameterError: No step has that name; the message lists them.
    """
    for step in STEPS:
        if step.name == name:
            return step
    raise ParameterError(f"unknown step '{name}'; choose one of: {', '.join(STEP_NAMES)}")


def select(first: str | None = None, last: str | None = None) -> list[Step]:
    """The steps from `first` to `last` inclusive, in run order.

    Args:
        first: The first step to run (default: the first of the cycle).
        last: The last step to run (default: the last of the cycle).

    Returns:
        The selected steps in run order.

    Raises:
        ParameterError: A name is unknown, or `first` comes after `last`.
    """
    names = list(STEP_NAMES)
    i = names.index(get(first).name) if first else 0
    j = names.index(get(last).name) if last else len(names) - 1
    if i > j:
        raise ParameterError(f"--from {first} comes after --to {last} in the run order ({', '.join(names)})")
    return list(STEPS[i : j + 1])


def prerequisites(selected: list[Step]) -> list[str]:
    """The steps whose products the selected steps read but that are not selected themselves.

    Follows `upstream` transitively, so `--from supply_planning` needs what demand planning read too.

    Args:
        selected: The steps to run.

    Returns:
        Step names in run order.
    """
    chosen = {s.name for s in selected}
    needed: set[str] = set()
    todo = [u for s in selected for u in s.upstream]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(get(name).upstream)
    return [n for n in STEP_NAMES if n in needed and n not in chosen]


class StepResult:
    """What a step's `run(ctx)` returns: its products, and everything its report shows.

    Subclasses are the steps' result objects (`Collection`, `SalesPerformance`, `DemandPlan`,
    `SupplyPlan`, `PreSop`, `ExecutiveReview`, `FollowUp`); each defines `products`.
    `StepContext.save` writes them all.
    """

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """The step's products, name to frame (every name the step declares)."""
        raise NotImplementedError(f"{type(self).__name__} does not define its products")

    @property
    def metadata(self) -> dict[str, dict]:
        """JSON documents the step writes beside its products, name to mapping (usually none)."""
        return {}

    def saved(self, store: StepStore) -> None:
        """Called by `StepContext.save` once every product is written (nothing by default).

        Args:
            store: The run's store.
        """


class StepContext:
    """What a notebook uses: the parameters, earlier steps' products, and a place to write its own.

    Args:
        step: The step's name.
        p: The validated parameters of the run.
    """

    def __init__(self, step: str, p: Params):
        self.step = get(step)
        self.p = p
        self.store = StepStore(p.run_path)
        self.reports = ReportsStore(p.out)
        self._tables: dict[str, pd.DataFrame] = {}

    @property
    def period(self) -> str:
        """The period of the run (`YYYY-MM`)."""
        return str(self.p.period)

    @property
    def period_start(self) -> pd.Timestamp:
        """The first day of the period."""
        return self.p.period_start

    def _check_upstream(self, step: str) -> None:
        if step not in self.step.upstream:
            declared = ", ".join(self.step.upstream) or "none"
            raise UpstreamError(
                f"step {self.step.name} reads '{step}', which is not among its declared upstream steps "
                f"({declared}); add it to the step's upstream in salesops/steps.py"
            )

    def read(self, step: str, name: str, default: Any = REQUIRED) -> pd.DataFrame:
        """A product of an upstream step in this run.

        Args:
            step: An upstream step of this one.
            name: The product's name.
            default: Returned when the product is missing (for example `None` for an optional
                input); without it a missing product is an error.

        Returns:
            The product, or `default`.

        Raises:
            UpstreamError: `step` is not declared upstream of this step.
            DataError: The product is missing and no default was given.
        """
        self._check_upstream(step)
        return self.store.read(step, name, default=default)

    def table(self, name: str, default: Any = REQUIRED) -> pd.DataFrame:
        """An input table of the period snapshot (validated and normalised by data collection).

        Args:
            name: The table's name (`sales`, `products`, ...).
            default: Returned when the snapshot has no such table; without it that is an error.

        Returns:
            A copy of the table, or `default`.
        """
        self._check_upstream("data_collection")
        if name not in self._tables:
            frame = self.store.read("data_collection", name, default=None)
            if frame is None:
                return self.store.read("data_collection", name, default=default)
            self._tables[name] = frame
        return self._tables[name].copy()

    def earlier(self, step: str, name: str) -> dict[str, pd.DataFrame]:
        """A product as the published runs of earlier periods wrote it.

        Args:
            step: The step that wrote it.
            name: The product's name.

        Returns:
            The product of each earlier period that has it, by period, oldest first.
        """
        return self.reports.collect(step, name, before=self.period)

    def save(self, result: StepResult) -> None:
        """Write every product of this step from its result (and its metadata, if any).

        Args:
            result: What the step's `run(ctx)` returned.

        Raises:
            ParameterError: The result lacks a declared product or holds an undeclared one.
        """
        products = result.products
        missing = [n for n in self.step.products if n not in products]
        extra = [n for n in products if n not in self.step.products]
        if missing or extra:
            raise ParameterError(
                f"step {self.step.name} declares the products {', '.join(self.step.products)}; its result "
                + "; ".join(
                    part
                    for part in (
                        f"lacks {', '.join(missing)}" if missing else "",
                        f"holds undeclared {', '.join(extra)}" if extra else "",
                    )
                    if part
                )
                + " (declare products in salesops/steps.py)"
            )
        for name in self.step.products:
            self.store.write(self.step.name, name, products[name])
        for name, content in result.metadata.items():
            self.store.write_json(self.step.name, name, content)
        result.saved(self.store)


def context(step: str, p: Params) -> StepContext:
    """The context a step's notebook works in.

    Args:
        step: The step's name.
        p: The validated parameters (`salesops.params.load`).

    Returns:
        The step's context.
    """
    return StepContext(step, p)
