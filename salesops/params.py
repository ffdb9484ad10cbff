"""Parameters: `params/default.yaml` merged with `params/<PERIOD>.yaml`, validated strictly.

Every section is a pydantic model that rejects unknown keys; errors are rewritten into sentences
naming the file, the key and the fix.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .exceptions import ParameterError

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DEFAULT_PARAMS_DIR = Path("params")
INTERNAL_KEYS = {"params_files", "run_dir", "reapprove"}  # set by load(), not by users
# the steps of the cycle in run order (salesops.steps.STEP_NAMES), and the steps each one cannot run
# without (reads of sales_performance are optional: demand planning and the executive review run without)
STEP_NAMES = (
    "data_collection",
    "sales_performance",
    "demand_planning",
    "supply_planning",
    "pre_sop",
    "executive_review",
    "follow_up",
)
STEP_NEEDS = {
    "supply_planning": ("demand_planning",),
    "pre_sop": ("demand_planning", "supply_planning"),
    "executive_review": ("demand_planning", "supply_planning", "pre_sop"),
    "follow_up": ("demand_planning", "executive_review"),
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ---------------------------------------------------------------- data
class TableMapping(Strict):
    """How one source table maps onto the contract: renamed columns and recoded values.

    Attributes:
        source: The name of the table or file in the source, when not the contract's (a file path
            is read from that file).
        columns: Source column name to contract column name.
        values: Per column, source value to contract value (e.g. CRM stage spellings).
    """

    source: str | None = Field(
        None, description="name of the table or file in the source, if not the contract's"
    )
    columns: dict[str, str] = Field(default_factory=dict, description="source column -> contract column")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="column -> {source value: value}"
    )


class DataParams(Strict):
    """Where the input tables come from and how strictly they are checked (`data:`).

    Attributes:
        source: A folder of CSV/Parquet/Excel files, an Excel workbook, a DuckDB file or an
            SQLAlchemy URL; None = the embedded demo company.
        password_env: The environment variable holding the database password.
        tables: Per contract table, how the source's table maps onto it.
        max_problems: Problems listed per check before the rest are counted.
        allow_missing_recent_months: Months of sales history that may be missing before the period.
        max_text_chars: The longest text accepted in a table cell.
    """

    source: str | None = Field(
        None,
        description="a folder of CSV/Parquet/Excel files, a DuckDB file or an SQLAlchemy URL; "
        "None = the embedded demo company",
    )
    password_env: str = Field(
        "SALESOPS_DB_PASSWORD", description="environment variable holding the database password"
    )
    tables: dict[str, TableMapping] = Field(default_factory=dict)
    max_problems: int = Field(50, ge=1, description="problems listed per check before the rest are counted")
    allow_missing_recent_months: int = Field(
        0,
        ge=0,
        description="months of sales history that may be missing before the period (0: history must "
        "reach the month before it)",
    )
    max_text_chars: int = Field(
        1000, ge=1, description="longest text accepted in a table cell; longer texts are refused"
    )


class ExecutionParams(Strict):
    """Time limits of the step notebooks (`execution:`).

    Attributes:
        cell_timeout_s: Seconds a notebook cell may run before the run fails (exit 1).
        step_timeout_s: Seconds a step's whole notebook may run before the run fails (exit 1).
    """

    cell_timeout_s: float = Field(
        1800, gt=0, description="a notebook cell running longer fails the run (exit 1)"
    )
    step_timeout_s: float = Field(
        3600, gt=0, description="a step's notebook running longer in all fails the run (exit 1)"
    )


class DemoParams(Strict):
    """The size of the generated demo company (`demo:`).

    Attributes:
        seed: The random seed: the same seed makes the same company.
        skus: The number of SKUs.
        months: The months of sales history.
        reps: The number of sales reps.
    """

    seed: int = 42
    skus: int = Field(150, ge=1)
    months: int = Field(48, ge=6)
    reps: int = Field(25, ge=1)


# ---------------------------------------------------------------- demand
class Override(Strict):
    """A planner's change to the statistical forecast of one SKU or family in one month.

    Attributes:
        sku: The SKU changed (exactly one of `sku` and `family`).
        family: The family changed.
        month: The month changed, `YYYY-MM`.
        quantity: Replace the forecast with this many units (exactly one of `quantity` and
            `change_pct`).
        change_pct: Change the forecast by this percentage.
        owner: Who made the change.
        reason: Why.
    """

    sku: str | None = None
    family: str | None = None
    month: str
    quantity: float | None = Field(None, description="replace the forecast with this many units")
    change_pct: float | None = Field(None, description="change the forecast by this percentage")
    owner: str
    reason: str

    @field_validator("month")
    @classmethod
    def _month(cls, v: str) -> str:
        return _check_period(v)

    @model_validator(mode="after")
    def _one_target_one_change(self):
        if (self.sku is None) == (self.family is None):
            raise ValueError("an override names either a sku or a family (exactly one of them)")
        if (self.quantity is None) == (self.change_pct is None):
            raise ValueError("an override gives either quantity (units) or change_pct (percent), exactly one")
        return self


class DemandParams(Strict):
    """Demand planning settings (`demand:`).

    Attributes:
        horizon: Months forecast (1 to 60).
        season_length: Months in a seasonal cycle.
        levels: Prediction interval levels in percent (e.g. 80, 95).
        backtest_windows: Forecast origins of the backtest (0 = none).
        reconciliation: How family and SKU forecasts are made to agree: `bottom_up`, `mint_wls`,
            `ols` or `none`.
        engine: Where forecasts are computed: `local` or `dask`.
        workers: Processes forecasting in parallel; None = all cores.
        dask_scheduler: The address of a Dask scheduler (engine `dask`); None = a local cluster.
        pipeline_blend: Blend the CRM pipeline into the first months' forecast.
        overrides: The planners' overrides of the forecast.
    """

    horizon: int = Field(18, ge=1, le=60)
    season_length: int = Field(12, ge=1)
    levels: list[int] = Field(default_factory=lambda: [80, 95])
    backtest_windows: int = Field(
        6, ge=0, description="forecast origins of the backtest, the last cycles' (0 = none)"
    )
    reconciliation: Literal["bottom_up", "mint_wls", "ols", "none"] = "bottom_up"
    engine: Literal["local", "dask"] = "local"
    workers: int | None = Field(None, ge=1)
    dask_scheduler: str | None = None
    pipeline_blend: bool = True
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[int]) -> list[int]:
        for level in v:
            if not 0 < level < 100:
                raise ValueError(f"level {level} is not a percentage between 0 and 100 (e.g. 80 or 95)")
        return sorted(set(v))


# ---------------------------------------------------------------- supply
class SupplyParams(Strict):
    """Supply planning settings (`supply:`).

    Attributes:
        service_level: The cycle service level the safety stock protects.
        holding_cost_rate: Holding cost per month, a fraction of unit cost.
        backlog_cost_rate: Backlog cost per unit-month, a fraction of unit price.
        overtime_premium: The premium of an overtime hour over a regular one.
        cost_per_hour: The regular hourly cost where capacity has none.
        default_lead_time_months: The lead time where products have none.
        safety_stock_shortfall_rate: Cost per unit-month of stock below safety stock, a fraction of
            unit price.
        fallback_error_cv: Sigma of forecast error as a fraction of mean monthly demand, when no
            other estimate exists.
        excess_cover_months: Stock above safety stock plus this many months of demand is excess.
        strategy: The strategy whose plan drives the SKU projection: `chase`, `level` or `optimal`.
        lost_sale_rate: Cost per unit still backlogged at the end of the horizon, a fraction of
            unit price.
        frozen_months: Months from the period's start with no new production or purchase planned.
        min_error_samples: Backtest errors a SKU needs for its own safety stock.
        no_safety_stock_statuses: `products.status` values that get no safety stock.
        exact_lots: Solve every resource's cost-optimal plan as a MIP (whole lots and minimum orders
            exact).
        mip_max_variables: Resources with at most this many production variables are solved as a MIP
            even without `exact_lots`.
        mip_node_limit: The branch-and-bound nodes of each MIP (reproducible, unlike a time limit).
        mip_time_limit_s: A safety cap on the time of each MIP.
        mip_gap: The relative optimality gap at which a MIP stops.
        workers: Processes solving large resource LPs in parallel; None = all cores.
    """

    service_level: float = Field(
        0.95, gt=0, lt=1, description="cycle service level the safety stock protects"
    )
    holding_cost_rate: float = Field(0.02, ge=0, description="holding cost per month, fraction of unit cost")
    backlog_cost_rate: float = Field(
        0.25, ge=0, description="backlog cost per unit-month, fraction of unit price"
    )
    overtime_premium: float = Field(
        0.5,
        ge=0,
        description="an overtime hour costs (1 + premium) x the regular hourly cost; the regular part "
        "is already in unit_cost, so overtime adds premium x cost_per_hour per hour",
    )
    cost_per_hour: float = Field(40.0, ge=0, description="regular hourly cost where capacity has none")
    default_lead_time_months: float = Field(1.0, gt=0, description="lead time where products have none")
    safety_stock_shortfall_rate: float = Field(
        0.05, ge=0, description="cost per unit-month of stock below safety stock, fraction of unit price"
    )
    fallback_error_cv: float = Field(
        0.3,
        ge=0,
        description="sigma of forecast error as a fraction of mean monthly demand, when neither "
        "error_stats nor an 80% interval gives one",
    )
    excess_cover_months: float = Field(
        3.0, ge=0, description="stock above safety stock + this many months of coming demand is excess"
    )
    strategy: Literal["chase", "level", "optimal"] = Field(
        "optimal", description="the strategy whose plan drives the SKU inventory projection"
    )
    lost_sale_rate: float = Field(
        1.0,
        ge=0,
        description="cost per unit still backlogged at the end of the horizon, fraction of unit price",
    )
    frozen_months: int = Field(
        1,
        ge=0,
        description="months from the period's start in which no new production or purchase is planned "
        "(firm receipts of the supply table only); a SKU's lead time can push its first month later",
    )
    min_error_samples: int = Field(
        8,
        ge=1,
        description="lead-time forecast errors a SKU needs from the backtest for its safety stock; "
        "with fewer, sigma comes from error_stats (or the interval) x sqrt(lead time)",
    )
    no_safety_stock_statuses: list[str] = Field(
        default_factory=lambda: ["end_of_life", "discontinued", "obsolete"],
        description="products.status values that get no safety stock",
    )
    exact_lots: bool = Field(
        False,
        description="solve the cost-optimal plan of every resource as a MIP (whole lots and minimum "
        "orders exact, up to mip_time_limit_s each); false: the MIP only for resources with at most "
        "mip_max_variables production variables, the others as an LP rounded to whole lots within the hours",
    )
    mip_max_variables: int = Field(
        240,
        ge=0,
        description="a resource with at most this many SKU-month production variables is solved as a MIP "
        "even when exact_lots is false (small problems solve in milliseconds)",
    )
    mip_node_limit: int = Field(
        2000,
        ge=1,
        description="branch-and-bound nodes of each MIP (the best plan found is used, else the rounded LP); "
        "a node limit, unlike a time limit, gives the same plan on every machine",
    )
    mip_time_limit_s: float = Field(
        60.0, gt=0, description="safety cap on the time of each MIP (the node limit normally stops it first)"
    )
    mip_gap: float = Field(0.001, ge=0, description="relative optimality gap at which a MIP stops")
    workers: int | None = Field(
        None,
        ge=1,
        description="processes that solve resource LPs in parallel when they are large (None = all cores); "
        "small plans are solved in this process",
    )


# ---------------------------------------------------------------- pre-S&OP and executive
class Adjustment(Strict):
    """A scenario's change in percent to demand, capacity or price, for a family, SKU or resource.

    Attributes:
        family: The family changed; None = every family.
        sku: The SKU changed; None = every SKU.
        resource: The resource changed (capacity selects by resource only); None = every resource.
        start: The first month the change applies, `YYYY-MM` (key `from`); None = from the start.
        end: The last month the change applies (key `until`); None = to the end.
        pct: The change in percent: 15 = +15 %, -20 = -20 %.
    """

    family: str | None = None
    sku: str | None = None
    resource: str | None = None
    start: str | None = Field(None, alias="from", description="first month the change applies (YYYY-MM)")
    end: str | None = Field(
        None, alias="until", description="last month the change applies; None = to the end"
    )
    pct: float = Field(description="change in percent: 15 = +15 %, -20 = -20 %")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("start", "end")
    @classmethod
    def _months(cls, v: str | None) -> str | None:
        return None if v is None else _check_period(v)


class Launch(Strict):
    """A new product a scenario launches.

    Attributes:
        sku: The new SKU.
        family: Its family.
        start: The first month it sells, `YYYY-MM` (key `from`).
        units_per_month: The units it sells per month.
        unit_price: Its price per unit.
        unit_cost: Its cost per unit.
        resource: The resource that makes it; None = bought in.
        hours_per_unit: Hours of `resource` per unit.
    """

    sku: str
    family: str
    start: str = Field(alias="from")
    units_per_month: float = Field(gt=0)
    unit_price: float = Field(gt=0)
    unit_cost: float = Field(ge=0)
    resource: str | None = None
    hours_per_unit: float = 0.0

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("start")
    @classmethod
    def _month(cls, v: str) -> str:
        return _check_period(v)


class Scenario(Strict):
    """A what-if scenario of the pre-S&OP: adjustments and launches on top of the base plan.

    Attributes:
        name: The scenario's name.
        description: What it is about.
        demand: Changes to demand.
        capacity: Changes to capacity.
        price: Changes to prices.
        launches: New products.
    """

    name: str
    description: str = ""
    demand: list[Adjustment] = Field(default_factory=list)
    capacity: list[Adjustment] = Field(default_factory=list)
    price: list[Adjustment] = Field(default_factory=list)
    launches: list[Launch] = Field(default_factory=list)


class Decision(Strict):
    """A decision of the executive review, tracked until it is carried out.

    Attributes:
        id: Its identifier.
        title: What is decided.
        owner: Who carries it out.
        due: When it is due.
        status: `open`, `done` or `dropped`.
        decision: What was decided, in words.
        period: The period the decision was taken in.
        done_on: When a done decision was carried out (on time or late).
    """

    id: str
    title: str
    owner: str
    due: dt.date
    status: Literal["open", "done", "dropped"] = "open"
    decision: str = ""
    period: str | None = Field(None, description="the period the decision was taken in")
    done_on: dt.date | None = Field(
        None, description="when a done decision was carried out (on time or late)"
    )


class ExecutiveParams(Strict):
    """Executive review settings and the approval of the plan (`executive:`).

    Attributes:
        approved_by: Who approved the plan; set to freeze the plan of record.
        approved_on: When it was approved.
        scenario: The scenario approved; None = the recommended one.
        bias_limit: Families whose backtest bias exceeds this fraction are flagged.
        budget_tolerance: A family's plan below budget by more than this fraction is an exception.
        top_decisions: Decisions proposed from the top exceptions by value at risk.
        decision_due_days: Decisions are due this many days after the period starts.
        owners: The owner per exception kind, overriding the built-in roles.
    """

    approved_by: str | None = Field(
        None, description="who approved the plan; set to freeze the plan of record"
    )
    approved_on: dt.date | None = None
    scenario: str | None = Field(None, description="the scenario approved; None = the recommended one")
    bias_limit: float = Field(
        0.1, gt=0, description="flag families whose backtest bias exceeds this fraction"
    )
    budget_tolerance: float = Field(
        0.02, ge=0, description="a family's plan below budget by more than this fraction is an exception"
    )
    top_decisions: int = Field(
        6, ge=1, description="decisions proposed from the top exceptions by value at risk"
    )
    decision_due_days: int = Field(
        14, ge=1, description="decisions are due this many days after the period starts"
    )
    owners: dict[str, str] = Field(
        default_factory=dict,
        description="owner per exception kind (overload, shortage, excess, budget_gap, "
        "bias), overriding the built-in roles",
    )


# ---------------------------------------------------------------- sales
class CompensationPlan(Strict):
    """A variable-pay plan: a blend of individual and team attainment, each paid on the same curve.

    Rate curve of attainment `a` (after capping at `cap`): 0 below `threshold`, `a` up to 100%,
    `1 + (a - 1) * accelerator` above 100%. Payout = target x (individual_weight x rate(individual)
    + team_weight x rate(team)).

    Attributes:
        individual_weight: The weight of the rep's own attainment (with `team_weight`, adds up to 1).
        team_weight: The weight of the team's attainment.
        threshold: Attainment below this pays nothing.
        accelerator: The rate multiplier on attainment above 100%.
        cap: Attainment above this pays nothing more.
        target_incentive: Monthly on-target incentive by rep name, role or team; `default` for the rest.
        eligible: Who is paid: `quota`, `all`, or a list of rep names, roles or teams.
    """

    individual_weight: float = Field(0.75, ge=0, le=1)
    team_weight: float = Field(0.25, ge=0, le=1, validate_default=True)
    threshold: float = Field(0.5, ge=0, description="attainment below this pays nothing")
    accelerator: float = Field(1.5, ge=1, description="rate multiplier on attainment above 100%")
    cap: float = Field(
        2.0, gt=0, validate_default=True, description="attainment above this pays nothing more"
    )
    target_incentive: dict[str, float] = Field(
        default_factory=lambda: {"default": 2000.0},
        description="monthly on-target incentive by rep name, role (reps.role) or team; 'default' for the rest",
    )
    eligible: Literal["quota", "all"] | list[str] = Field(
        "quota",
        description="who is paid: 'quota' (reps with a quota in the month), 'all' (every rep of the reps "
        "table), or a list of rep names, roles or teams",
    )

    @field_validator("target_incentive")
    @classmethod
    def _incentives(cls, v: dict[str, float]) -> dict[str, float]:
        for who, amount in v.items():
            if amount < 0:
                raise ValueError(f"the target incentive of '{who}' is {amount}; use an amount of 0 or more")
        return v

    @field_validator("team_weight")
    @classmethod
    def _weights(cls, v: float, info) -> float:
        individual = info.data.get("individual_weight")
        if individual is not None and abs(individual + v - 1) > 1e-9:
            raise ValueError(
                f"individual_weight {individual:g} + team_weight {v:g} = {individual + v:g}; "
                "they must add up to 1 (e.g. 0.75 and 0.25)"
            )
        return v

    @field_validator("cap")
    @classmethod
    def _cap(cls, v: float, info) -> float:
        threshold = info.data.get("threshold")
        if threshold is not None and threshold >= v:
            raise ValueError(
                f"cap {v:g} is not above threshold {threshold:g}; lower the threshold or raise the cap"
            )
        return v


class SalesParams(Strict):
    """Sales performance settings (`sales:`).

    Attributes:
        compensation: The variable-pay plan.
        enps_min_responses: Teams with fewer survey answers in a month are suppressed.
        enps_question: Count only answers to this survey question; None = all.
        outlier_z: The robust z-score beyond which a rep is flagged.
        lookback_months: Months of closed deals used for win rates and rep comparison.
        at_risk_attainment: Forecast attainment from this up to 100% is "at risk".
    """

    compensation: CompensationPlan = Field(default_factory=CompensationPlan)
    enps_min_responses: int = Field(5, ge=1, description="teams with fewer answers in a month are suppressed")
    enps_question: str | None = Field(
        None, description="count only answers to this survey question; None = all"
    )
    outlier_z: float = Field(
        2.0, gt=0, description="robust z-score (median/MAD) beyond which a rep is flagged"
    )
    lookback_months: int = Field(
        12, ge=1, description="months of closed deals used for win rates and rep comparison"
    )
    at_risk_attainment: float = Field(
        0.85, ge=0, le=1, description="forecast attainment from this up to 100% is 'at risk'"
    )


# ---------------------------------------------------------------- follow-up
class AlertParams(Strict):
    """When the follow-up raises alerts (`alerts:`).

    Attributes:
        tracking_signal_limit: Alert when a family's |tracking signal| exceeds this.
        accuracy_drop_pct: Alert when the latest accuracy drops more than this many points below
            the mean of the previous `baseline_cycles` months.
        service_target: Alert when the latest estimated fill rate is below this.
        overdue_decisions: Alert on open decisions due before the period.
        baseline_cycles: Earlier months the latest accuracy is compared with.
        tracking_window: Months in the tracking signal and the accuracy trend.
    """

    tracking_signal_limit: float = Field(
        4.0, gt=0, description="alert when a family's |tracking signal| exceeds this"
    )
    accuracy_drop_pct: float = Field(
        10.0,
        ge=0,
        description="alert when the latest lag-1 accuracy (1 - WAPE) is more than this many points "
        "below the mean of the previous `baseline_cycles` months",
    )
    service_target: float = Field(
        0.95, gt=0, le=1, description="alert when the latest estimated fill rate is below"
    )
    overdue_decisions: bool = Field(True, description="alert on open decisions due before the period")
    baseline_cycles: int = Field(3, ge=1, description="earlier months the latest accuracy is compared with")
    tracking_window: int = Field(12, ge=1, description="months in the tracking signal and the accuracy trend")


class ReportParams(Strict):
    """Which reports are rendered, and how (`report:`).

    Attributes:
        formats: The formats rendered: `html`, `pdf` or both.
        renderer: `auto` (Quarto when installed), `builtin` or `quarto`.
    """

    formats: list[Literal["html", "pdf"]] = Field(default_factory=lambda: ["html", "pdf"])
    renderer: Literal["auto", "builtin", "quarto"] = "auto"


class Params(Strict):
    """All parameters of one cycle. `period`, `out` and `run_dir` are set by `load`.

    Attributes:
        company: The company's name, shown on the reports.
        currency: The currency of money amounts.
        period: The period, `YYYY-MM`.
        out: The output folder of the reports.
        run_dir: The folder of this run; None = `out/period`.
        params_files: The params files read, in order (set by `load`).
        reapprove: Replace an approved plan of record, the old one kept as a version (set by `load`).
        data: Where the input tables come from.
        demo: The demo company's size.
        demand: Demand planning settings.
        supply: Supply planning settings.
        scenarios: The pre-S&OP scenarios.
        decisions: The decision log.
        executive: Executive review settings.
        sales: Sales performance settings.
        alerts: When alerts fire.
        report: Report formats and renderer.
        execution: Notebook time limits.
        steps: The steps this company runs; None = all.
    """

    company: str = "Demo Company"
    currency: str = "USD"
    period: str | None = None
    out: str = "reports"
    run_dir: str | None = None
    params_files: list[str] = Field(default_factory=list)
    reapprove: bool = False
    data: DataParams = Field(default_factory=DataParams)
    demo: DemoParams = Field(default_factory=DemoParams)
    demand: DemandParams = Field(default_factory=DemandParams)
    supply: SupplyParams = Field(default_factory=SupplyParams)
    scenarios: list[Scenario] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    executive: ExecutiveParams = Field(default_factory=ExecutiveParams)
    sales: SalesParams = Field(default_factory=SalesParams)
    alerts: AlertParams = Field(default_factory=AlertParams)
    report: ReportParams = Field(default_factory=ReportParams)
    execution: ExecutionParams = Field(default_factory=ExecutionParams)
    steps: list[str] | None = Field(
        None,
        description="the steps this company runs, e.g. [data_collection, sales_performance]; None = all. "
        "Tables needed only by other steps are not required; the others are marked skipped in run.json",
    )

    @field_validator("steps")
    @classmethod
    def _steps(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        unknown = [s for s in v if s not in STEP_NAMES]
        if unknown:
            raise ValueError(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEP_NAMES)}")
        chosen = {"data_collection", *v}  # every step reads the snapshot data collection makes
        missing = [
            f"{step} needs {need}"
            for step, needs in STEP_NEEDS.items()
            if step in chosen
            for need in needs
            if need not in chosen
        ]
        if missing:
            raise ValueError("; ".join(missing) + ": add the step(s) it needs to steps")
        return [s for s in STEP_NAMES if s in chosen]

    @field_validator("period")
    @classmethod
    def _period(cls, v: str | None) -> str | None:
        return None if v is None else _check_period(v)

    @property
    def run_path(self) -> Path:
        return Path(self.run_dir) if self.run_dir else Path(self.out) / str(self.period)

    @property
    def period_start(self):
        import pandas as pd

        return pd.Timestamp(f"{self.period}-01")


def _check_period(v: Any) -> str:
    v = str(v)
    if not PERIOD_RE.match(v):
        raise ValueError(f"'{v}' is not a month written YYYY-MM (e.g. 2026-11)")
    if not 1900 <= int(v[:4]) <= 2200:
        raise ValueError(f"'{v}': the year must be between 1900 and 2200 (e.g. 2026-11)")
    return v


# ---------------------------------------------------------------- loading
def read_yaml(path: Path) -> dict:
    """Read one params file.

    Args:
        path: The YAML file.

    Returns:
        Its content, a mapping (empty for an empty file).

    Raises:
        ParameterError: The file cannot be read, is not valid YAML, or does not hold a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read the params file ({exc.strerror}); check the path") from exc
    try:
        content = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParameterError(
            f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax"
        ) from exc
    if not isinstance(content, dict):
        raise ParameterError(
            f"{path}: the file must hold a mapping of keys (key: value), not {type(content).__name__}"
        )
    return content


TABLE_FILE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xlsx", ".xls")


def _table_files(content: dict, folder: Path) -> dict:
    """`data.tables.<table>.source` naming a file relative to the params file's folder, made absolute."""
    tables = (content.get("data") or {}).get("tables") if isinstance(content.get("data"), dict) else None
    if not isinstance(tables, dict):
        return content
    for mapping in tables.values():
        source = mapping.get("source") if isinstance(mapping, dict) else None
        if isinstance(source, str) and source.lower().endswith(TABLE_FILE_SUFFIXES):
            path = Path(source)
            if not path.is_absolute() and (folder / path).is_file():
                mapping["source"] = str((folder / path).resolve())
    return content


def merge(base: dict, override: dict) -> dict:
    """Deep-merge two mappings: nested mappings merge, everything else is replaced.

    Args:
        base: The mapping merged onto; not modified.
        override: The mapping whose values win.

    Returns:
        A new merged mapping.

    Example:
        >>> merge({"demand": {"horizon": 18, "season_length": 12}}, {"demand": {"horizon": 24}})
        {'demand': {'horizon': 24, 'season_length': 12}}
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: Any = Params
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def explain(error: ValidationError, source: str) -> str:
    """Rewrite pydantic's errors into one readable line per problem.

    Args:
        error: The validation error.
        source: What was validated (the params files), named at the start of each line.

    Returns:
        One line per problem, naming the key and the fix.
    """
    lines = []
    for err in error.errors():
        loc = tuple(p for p in err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            model = _model_at(loc)
            known = sorted(set(model.model_fields) - INTERNAL_KEYS) if model else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}."
            lines.append(f"{source}: unknown key '{key}'; {hint} Remove or rename it.")
        elif kind == "missing":
            lines.append(f"{source}: key '{key}' is required; add it.")
        else:
            value = err.get("input")
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: key '{key}' = {value!r} is invalid: {msg}.")
    return "\n".join(lines)


def validate(values: dict, source: str = "parameters") -> Params:
    """Validate a mapping of parameters; raises `ParameterError` with one line per problem.

    Args:
        values: The parameters, as read from YAML.
        source: What they come from, for the messages.

    Returns:
        The validated parameters.

    Raises:
        ParameterError: A key is unknown, missing or invalid.
    """
    try:
        return Params.model_validate(values)
    except ValidationError as exc:
        raise ParameterError(explain(exc, source)) from None


def project_root(start: Path | None = None) -> Path:
    """The project folder: the nearest of the current folder and its parents holding `params/`.

    Notebooks opened in JupyterLab run inside `notebooks/`; this finds the project's `params/` and
    `reports/` from there. Falls back to the current folder.

    Args:
        start: The folder to start from; None = the current folder.

    Returns:
        The project folder (`start` itself when no parent holds `params/default.yaml`).
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_PARAMS_DIR / "default.yaml").is_file():
            return folder
    return here


def params_files(
    period: str | None = None,
    params: str | Path | list[str | Path] | tuple[str | Path, ...] | None = None,
    params_dir: str | Path | None = None,
) -> list[Path]:
    """The params files `load` reads for `period`, in the order they are merged (see `load`).

    Args:
        period: the period (`YYYY-MM`) whose `params/<period>.yaml` is added when no file is named.
        params: one file or a list of files (`--params`, repeatable); read alone, in order.
        params_dir: the folder of `default.yaml` and the period files; None = the project's `params/`.

    Returns:
        The files, in the order they are merged.

    Example:
        >>> [f.name for f in params_files("2026-11")]
        ['default.yaml', '2026-11.yaml']
        >>> [str(f) for f in params_files("2026-11", params=["acme.yaml", "acme-2026-11.yaml"])]
        ['acme.yaml', 'acme-2026-11.yaml']
    """
    if params is not None:
        named = [params] if isinstance(params, (str, Path)) else list(params)
        return [Path(f) for f in named]
    folder = Path(params_dir) if params_dir else project_root() / DEFAULT_PARAMS_DIR
    files = [folder / "default.yaml"] if (folder / "default.yaml").exists() else []
    if period is not None and PERIOD_RE.match(str(period)) and (folder / f"{period}.yaml").exists():
        files.append(folder / f"{period}.yaml")
    return files


def load(
    period: str | None = None,
    params: str | Path | list[str | Path] | tuple[str | Path, ...] | None = None,
    data: str | None = None,
    out: str | Path | None = None,
    run_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
    **overrides: Any,
) -> Params:
    """Load and validate the parameters of one cycle.

    Which files are read (the one rule, also in the README and the data guide):

    - without `params`: `params/default.yaml` (when present), then `params/<period>.yaml` on top of
      it when that file exists (`params_dir` replaces the project's `params/` folder);
    - with `params` (one file or a list of files, `--params FILE` repeated on the command line):
      exactly those files, in order, each merged on top of the one before. No period file is added:
      to layer one, name it (`--params acme.yaml --params acme-2026-11.yaml`).

    Explicit arguments win over files. `p.params_files` lists the files read, in order.

    Args:
        period: The period, `YYYY-MM`.
        params: One params file or a list of them; None = `default.yaml` and the period's file.
        data: The data source, replacing `data.source`.
        out: The output folder, replacing `out` (relative: to the project folder).
        run_dir: The folder of this run.
        params_dir: The folder of `default.yaml` and the period files; None = the project's `params/`.
        **overrides: Top-level keys set last (e.g. `reapprove=True`).

    Returns:
        The validated parameters.

    Raises:
        ParameterError: The period is not `YYYY-MM`, a file cannot be read, or a key is invalid.

    Example:
        >>> p = load(period="2026-11")
        >>> p.demand.horizon
        18
        >>> [Path(f).name for f in p.params_files]
        ['default.yaml', '2026-11.yaml']
    """
    values: dict = {}
    if period is not None:
        try:
            _check_period(period)
        except ValueError as exc:
            raise ParameterError(f"period: {exc}") from None
    files = params_files(period, params, params_dir)
    problems = []
    for path in files:
        content = _table_files(read_yaml(path), Path(path).parent)
        try:
            Params.model_validate(merge(values, content))
        except ValidationError as exc:
            problems.append(explain(exc, str(path)))
        values = merge(values, content)
    if problems:
        raise ParameterError("\n".join(problems))
    explicit = {
        "period": period,
        "out": None if out is None else str(out),
        "run_dir": None if run_dir is None else str(run_dir),
    }
    values.update({k: v for k, v in explicit.items() if v is not None})
    if not Path(values.get("out", "reports")).is_absolute():
        values["out"] = str(project_root() / values.get("out", "reports"))
    if data is not None:
        values = merge(values, {"data": {"source": str(data)}})
    values.update(overrides)
    values["params_files"] = [str(f) for f in files]
    return validate(values, " + ".join(str(f) for f in files) or "parameters")


def unknown_overrides(p: Params, products) -> list[str]:
    """One warning per demand override naming a SKU or family the products table does not have.

    Demand planning ignores such an override (its audit says "unknown SKU"), so `salesops validate`
    and `salesops run` print these lines.

    Args:
        p: the parameters, with their `demand.overrides`.
        products: the products table (columns `sku`, `family`); None = nothing to check against.

    Returns:
        One line per override naming an unknown SKU or family, empty when all are known.

    Example:
        >>> import pandas as pd
        >>> p = validate({"demand": {"overrides": [
        ...     {"sku": "KET-1010", "month": "2026-12", "change_pct": 20, "owner": "Ana", "reason": "promotion"}]}})
        >>> unknown_overrides(p, pd.DataFrame({"sku": ["KET-1001"], "family": ["Kettles"]}))  # doctest: +ELLIPSIS
        ["demand.overrides.0: sku 'KET-1010' is not in the products table, so the override is ignored; ..."]
    """
    if products is None or not p.demand.overrides:
        return []
    known = {
        kind: sorted({str(v) for v in products[kind].dropna()}) if kind in products.columns else []
        for kind in ("sku", "family")
    }
    lines = []
    for i, override in enumerate(p.demand.overrides):
        kind = "sku" if override.sku is not None else "family"
        name = str(getattr(override, kind))
        if name in known[kind] or not known[kind]:
            continue
        close = difflib.get_close_matches(name, known[kind], n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"e.g. '{known[kind][0]}'"
        lines.append(
            f"demand.overrides.{i}: {kind} '{name}' is not in the products table, so the override is "
            f"ignored; name a {kind} the products table has ({hint})"
        )
    return lines
