"""Supply planning: rough-cut capacity, three production strategies and the SKU inventory projection.

Every strategy is planned per SKU (`salesops.supply.sku`, which says why): each SKU's own hours per
unit, whole units and lots (`products.lot_size`, `products.min_order`), nothing new before the SKU's
lead time has passed or inside the frozen months (`supply.frozen_months`; only firm receipts of the
`supply` table land earlier), and every resource-month within its regular + overtime hours. SKUs
without a resource or hours are bought in (no hours). Family figures are sums of the SKU plans.

Inventory balance per SKU and month t, with net position n (stock minus backlog):

    n_t = n_{t-1} + supply_t + production_t - demand_t,   n_0 = on hand at the start (locations summed)
    on_hand_t = max(n_t, 0),   shortage_t = max(-n_t, 0)   (so on_hand_t - shortage_t = n_t)

Unmet demand is backlogged and served first when stock comes in; backlog left at the end of the
horizon is a lost sale.

Net requirements (stock of one SKU cannot serve another): with n0 the SKU's net position without
production, the production it needs by month t is A_t = max over tau <= t of max(0, -n0_tau), and to
also hold safety stock C_t = max over tau <= t of max(0, SS - n0_tau).

Costs of a plan (all strategies are costed the same way; rates in params `supply`), see
`salesops.supply.sku`: `total_cost` = production + overtime (every hour above regular, at its
resource's rate x premium) + holding + backlog + lost sales. The safety-stock penalty and the value
of the stock left at the end are shown beside it, not netted into it.

Safety stock = z(cycle service level) x sigma over the lead time: the root mean square of the
backtest's lead-time errors (`lead_time_errors`) when a SKU has at least `supply.min_error_samples`,
else sigma per month x sqrt(lead time). None for SKUs with no planned demand or whose
`products.status` is in `supply.no_safety_stock_statuses`.

Fill rate: backlog is served first, so the part of month t's demand not met in month t is
min(demand_t, backlog_t); fill rate = 1 - sum(min(demand_t, backlog_t)) / sum(demand_t). It is measured
against the consensus and, with the same production, against the upper 80% bound of the demand plan
(`fill_rate_high`): each month's demand at its bound d+_t on its own, met from the plan's stock at the
end of the month, late_t = min(d+_t, max(0, d+_t - d_t - n_t)), fill_rate_high = 1 - sum(late) /
sum(d+). One month at a time, because the bound of demand over several months is far below the sum
of the monthly bounds (every SKU at its upper bound in every month would compound into a backlog no
forecast supports). Both are also given per family (`SupplyPlan.family_service`). The service level parameter is a cycle service level (the chance of no stock-out
within a lead time), which sets safety stock; the fill rate is what the plan delivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..exceptions import DataError, PlanError
from ..metrics import normal_quantile
from ..params import SupplyParams
from ..steps import StepResult
from .sku import COST_PARTS, Problem, Solution, chase, evaluate, level, solve_optimal

STRATEGIES = ("chase", "level", "optimal")
PURCHASED = "(bought in)"
Z_80 = normal_quantile(80)  # half-width of an 80% interval in sigmas
FORWARD_MONTHS = 3  # months of coming demand that set weeks of supply and excess
WEEKS_PER_MONTH = 52 / 12


@dataclass
class SupplyPlan(StepResult):
    """The result of `plan`: tidy frames for the step's products plus the SKU parameters used.

    `production_plan` holds all three strategies (family totals of their SKU plans);
    `inventory_projection` is the SKU detail of the strategy chosen in `SupplyParams.strategy`; `groups`
    is every strategy per family and resource (`strategy, family, resource, month, requirement,
    production, regular_hours, overtime_hours, overtime_cost`), where `requirement` is the net
    requirement after stock and open supply; `sku_plans` is every strategy per SKU and month
    (`strategy, unique_id, month, production, on_hand, shortage, hours, overtime_hours` and the cost
    parts of `salesops.supply.sku.COST_PARTS` plus `safety_stock_penalty`).

    Attributes:
        capacity_load: Required, regular and overtime hours per resource and month, with a status.
        production_plan: Every strategy's plan per family and month (family totals of the SKU plans).
        inventory_projection: The SKU detail of the strategy in use.
        strategy_summary: One row per strategy: costs, fill rates, overtime, units late and lost.
        sku_parameters: The SKU parameters used: costs, lead time, sigma and safety stock.
        groups: Every strategy per family and resource (see above).
        strategy: The strategy in use (`SupplyParams.strategy`).
        notes: What the plan had to assume about its inputs.
        sku_plans: Every strategy per SKU and month (see above).
        family_service: Every strategy's fill rate per family (`strategy, family, demand, late_units,
            lost_units, fill_rate, fill_rate_high`): the service target applies to each family too, so a
            plan that serves the total but starves one family shows it.
    """

    capacity_load: pd.DataFrame
    production_plan: pd.DataFrame
    inventory_projection: pd.DataFrame
    strategy_summary: pd.DataFrame
    sku_parameters: pd.DataFrame
    groups: pd.DataFrame
    strategy: str
    notes: list[str] = field(default_factory=list)
    sku_plans: pd.DataFrame = field(default_factory=pd.DataFrame)
    family_service: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """The step's products by name (what `ctx.save` writes)."""
        return {
            "capacity_load": self.capacity_load,
            "production_plan": self.production_plan,
            "inventory_projection": self.inventory_projection,
            "strategy_summary": self.strategy_summary,
        }


# ---------------------------------------------------------------- formulas
def safety_stock(sigma, lead_time_months, service_level: float):
    """Safety stock = z(service level) x sigma x sqrt(lead time in months).

    Args:
        sigma: The standard deviation of monthly demand error, in units (a number or an array).
        lead_time_months: The lead time in months (a number or an array).
        service_level: The cycle service level, a fraction (e.g. 0.95).

    Returns:
        The safety stock in units, shaped like `sigma` and `lead_time_months` broadcast.

    Example:
        >>> round(float(safety_stock(10.0, 4.0, 0.95)), 2)   # 1.645 x 10 x 2
        32.9
    """
    z = norm.ppf(service_level)
    return z * np.asarray(sigma, dtype=float) * np.sqrt(np.asarray(lead_time_months, dtype=float))


def fill_rate(demand, backlog) -> float:
    """Share of demand met in the month it falls due: 1 - sum(min(demand, backlog)) / sum(demand).

    Works on arrays (months along the last axis) or Series. 1.0 when there is no demand.

    Args:
        demand: Demand per month (months along the last axis).
        backlog: Backlog per month, aligned with `demand`.

    Returns:
        The fill rate, a fraction.

    Example:
        >>> fill_rate([10, 10, 10], [0, 4, 12])   # 4 units late in month 2, 10 in month 3
        0.5333333333333333
    """
    demand = np.asarray(demand, dtype=float)
    late = np.minimum(demand, np.asarray(backlog, dtype=float))
    total = demand.sum()
    return float(1 - late.sum() / total) if total > 0 else 1.0


def forward_demand(demand: np.ndarray, months: int = FORWARD_MONTHS) -> np.ndarray:
    """Mean demand of the next `months` months (rows = series, columns = months); the last month uses itself.

    Args:
        demand: Demand per series and month (rows = series, columns = months).
        months: How many months ahead are averaged.

    Returns:
        The forward mean demand, shaped like `demand`.

    Example:
        >>> forward_demand(np.array([[1.0, 2.0, 4.0, 6.0]]), months=2).tolist()
        [[3.0, 5.0, 6.0, 6.0]]
    """
    demand = np.asarray(demand, dtype=float)
    horizon = demand.shape[1]
    out = np.empty_like(demand)
    for t in range(horizon):
        ahead = demand[:, t + 1 : t + 1 + months]
        out[:, t] = ahead.mean(axis=1) if ahead.shape[1] else demand[:, t]
    return out


def weeks_of_supply(on_hand, forward_monthly_demand):
    """On hand / weekly rate of coming demand (monthly x 12 / 52); NaN where no demand is coming.

    Args:
        on_hand: Stock on hand (a number or an array).
        forward_monthly_demand: Mean monthly demand ahead (`forward_demand`), aligned with `on_hand`.

    Returns:
        Weeks of supply, shaped like the inputs.

    Example:
        >>> float(weeks_of_supply(130.0, 130.0))   # one month of stock = 52/12 weeks
        4.333333333333333
    """
    on_hand = np.asarray(on_hand, dtype=float)
    weekly = np.asarray(forward_monthly_demand, dtype=float) / WEEKS_PER_MONTH
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(weekly > 0, on_hand / np.where(weekly > 0, weekly, 1), np.nan)


def net_positions(opening, supply, production, demand) -> np.ndarray:
    """n_t = n_{t-1} + supply_t + production_t - demand_t (months along the last axis).

    Args:
        opening: The opening net position (a number, or one per row).
        supply: Open supply per month.
        production: Production per month.
        demand: Demand per month.

    Returns:
        The net position at the end of each month.

    Example:
        >>> net_positions(5.0, [0, 10], [3, 0], [6, 20]).tolist()
        [2.0, -8.0]
    """
    flow = np.asarray(supply, float) + np.asarray(production, float) - np.asarray(demand, float)
    return (
        np.asarray(opening, float)[..., None] + np.cumsum(flow, axis=-1)
        if np.ndim(opening)
        else float(opening) + np.cumsum(flow, axis=-1)
    )


# ---------------------------------------------------------------- inputs
def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...], error=DataError):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(f"{name} lacks column(s) {', '.join(missing)}; it needs {', '.join(columns)}")


def _month_start(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M").dt.to_timestamp()


def _show(value) -> str:
    """A value for a message: numbers as written, text quoted."""
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value) if isinstance(value, str) else f"{value}"


def _grid(rows, columns, values, row_index, column_index) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of `values` on a row_index x column_index grid (labels outside are dropped)."""
    i = pd.Index(row_index).get_indexer(rows)
    j = pd.Index(column_index).get_indexer(columns)
    keep = (i >= 0) & (j >= 0)
    total = np.zeros((len(row_index), len(column_index)))
    count = np.zeros_like(total)
    np.add.at(total, (i[keep], j[keep]), np.asarray(values, float)[keep])
    np.add.at(count, (i[keep], j[keep]), 1)
    return total, count


def _sku_frame(
    demand_plan, tables, settings, error_stats, backtest, period, notes
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demand plan from `period` on (long) and one row of parameters per SKU."""
    demand = _demand_from(demand_plan, period)
    prod = _products_of(demand, tables)
    skus = prod.index
    params = pd.DataFrame(index=skus)
    params["family"] = demand.groupby("unique_id")["family"].first().reindex(skus).astype(str)
    _check_not_negative(prod)
    _add_costs_and_routing(params, prod, settings, notes)
    _add_lots_and_status(params, prod)
    sigma, source = _forecast_sigma(demand, skus, error_stats, settings)
    _add_safety_stock(params, demand, sigma, source, backtest, settings)
    opening, policy = _opening_stock(tables.get("inventory"), skus)
    params["opening_on_hand"] = opening
    params["policy_safety_stock"] = policy
    return demand, params


def _demand_from(demand_plan: pd.DataFrame, period) -> pd.DataFrame:
    """The demand plan from `period` on, months as month starts, consensus checked as units >= 0."""
    _require(demand_plan, "demand_plan", ("unique_id", "family", "ds", "consensus"))
    demand = demand_plan.copy()
    demand["unique_id"] = demand["unique_id"].astype(str)
    demand["ds"] = _month_start(demand["ds"])
    if period is not None:
        start = pd.Timestamp(f"{period}-01") if isinstance(period, str) else pd.Timestamp(period)
        demand = demand[demand["ds"] >= start.to_period("M").to_timestamp()]
    if demand.empty:
        raise DataError(
            "demand_plan has no months to plan"
            + (f" from {period}" if period else "")
            + "; run demand planning first"
        )
    demand["consensus"] = pd.to_numeric(demand["consensus"], errors="coerce")
    bad = demand["consensus"].isna() | (demand["consensus"] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        row = demand.iloc[i]
        raise DataError(
            f"demand_plan.consensus row {i + 1}: {_show(row['consensus'])} for {row['unique_id']} "
            f"{row['ds']:%Y-%m} is not a non-negative number of units; fix the demand plan"
        )
    return demand


def _products_of(demand: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """The products row of every planned SKU, indexed by the sorted SKUs (`unique_id`)."""
    products = tables.get("products")
    if products is None:
        raise DataError(
            "the products table is missing; supply planning needs sku, family, unit_price, unit_cost"
        )
    _require(products, "products", ("sku", "unit_price", "unit_cost"))
    products = products.copy()
    products["sku"] = products["sku"].astype(str)
    products = products.drop_duplicates("sku", keep="last").set_index("sku")
    skus = pd.Index(sorted(demand["unique_id"].unique()), name="unique_id")
    unknown = skus.difference(products.index)
    if len(unknown):
        raise DataError(
            f"demand_plan has {len(unknown)} SKU(s) missing from products (first: {unknown[0]}); "
            "add them to the products table or drop them from the plan"
        )
    return products.reindex(skus)


def _check_not_negative(prod: pd.DataFrame) -> None:
    """Raise a DataError naming the first SKU with a negative price, cost, hours or lead time."""
    for column in ("unit_price", "unit_cost", "hours_per_unit", "lead_time_months"):
        if column in prod:
            values = pd.to_numeric(prod[column], errors="coerce")
            if (values < 0).any():
                sku = values.index[values < 0][0]
                raise DataError(
                    f"products.{column} for SKU {sku} is {_show(values[sku])}; it must be >= 0 "
                    "(fix the products table)"
                )


def _numeric_or_missing(prod: pd.DataFrame, column: str) -> pd.Series:
    """The products column as numbers (NaN where not a number), all NaN when the column is absent."""
    if column in prod:
        return pd.to_numeric(prod[column], errors="coerce")
    return pd.Series(np.nan, index=prod.index)


def _add_costs_and_routing(params: pd.DataFrame, prod: pd.DataFrame, settings, notes) -> None:
    """Add price, cost, resource (or bought in), hours per unit and lead time to `params`."""
    skus = prod.index
    params["unit_price"] = pd.to_numeric(prod["unit_price"], errors="coerce").fillna(0.0)
    params["unit_cost"] = pd.to_numeric(prod["unit_cost"], errors="coerce").fillna(0.0)
    resource = prod["resource"] if "resource" in prod else pd.Series(np.nan, index=skus)
    hours = _numeric_or_missing(prod, "hours_per_unit")
    made = resource.notna() & (resource.astype(str).str.strip() != "") & (hours.fillna(0) > 0)
    params["resource"] = np.where(made, resource.astype(str), PURCHASED)
    params["hours_per_unit"] = np.where(made, hours.fillna(0.0), 0.0)
    lead = _numeric_or_missing(prod, "lead_time_months")
    if lead.isna().any():
        notes.append(
            f"{int(lead.isna().sum())} SKU(s) have no lead time; "
            f"{settings.default_lead_time_months:g} month(s) assumed"
        )
    params["lead_time_months"] = lead.fillna(settings.default_lead_time_months).clip(lower=0)


def _add_lots_and_status(params: pd.DataFrame, prod: pd.DataFrame) -> None:
    """Add lot size and minimum order (whole units, checked) and the life-cycle status to `params`."""
    for column, default in (("lot_size", 1.0), ("min_order", 0.0)):
        values = _numeric_or_missing(prod, column)
        bad = (values <= 0 if column == "lot_size" else values < 0) | (values.notna() & (values % 1 != 0))
        if bad.any():
            sku = values.index[bad][0]
            raise DataError(
                f"products.{column} for SKU {sku} is {_show(values[sku])}; it must be a whole number of "
                f"units {'>= 1' if column == 'lot_size' else '>= 0'} (fix the products table or leave it empty)"
            )
        params[column] = values.fillna(default)
    status = prod["status"] if "status" in prod else pd.Series(np.nan, index=prod.index)
    params["status"] = status.astype(object).where(status.notna(), "").astype(str).str.strip().str.lower()


def _forecast_sigma(
    demand: pd.DataFrame, skus: pd.Index, error_stats, settings
) -> tuple[pd.Series, pd.Series]:
    """Sigma of forecast error per month and its source: error_stats, else 80% interval, else mean share."""
    sigma = pd.Series(np.nan, index=skus)
    source = pd.Series("", index=skus, dtype=object)
    if error_stats is not None and len(error_stats):
        _require(error_stats, "error_stats", ("unique_id", "sigma"))
        stats = error_stats.assign(unique_id=error_stats["unique_id"].astype(str))
        given = pd.to_numeric(stats.groupby("unique_id")["sigma"].first(), errors="coerce").reindex(skus)
        given = given.where(given >= 0)
        sigma = sigma.fillna(given)
        source[given.notna()] = "error_stats x sqrt(lead time)"
    if {"yhat_lo_80", "yhat_hi_80"} <= set(demand.columns):
        width = (
            pd.to_numeric(demand["yhat_hi_80"], errors="coerce")
            - pd.to_numeric(demand["yhat_lo_80"], errors="coerce")
        ) / (2 * Z_80)
        from_interval = width.groupby(demand["unique_id"]).mean().reindex(skus).clip(lower=0)
        fill = sigma.isna() & from_interval.notna()
        sigma[fill] = from_interval[fill]
        source[fill] = "80% interval x sqrt(lead time)"
    mean_demand = demand.groupby("unique_id")["consensus"].mean().reindex(skus).fillna(0.0)
    fill = sigma.isna()
    sigma[fill] = settings.fallback_error_cv * mean_demand[fill]
    source[fill] = f"{settings.fallback_error_cv:.0%} of mean demand x sqrt(lead time)"
    return sigma, source


def _add_safety_stock(
    params: pd.DataFrame, demand: pd.DataFrame, sigma: pd.Series, source: pd.Series, backtest, settings
) -> None:
    """Add sigma, sigma over the lead time (and its source) and the safety stock (or why none) to `params`."""
    skus = params.index
    params["sigma"] = sigma
    # over the lead time: the backtest's lead-time errors when there are enough, else sigma x sqrt(L)
    errors = lead_time_errors(backtest, params["lead_time_months"]).set_index("unique_id").reindex(skus)
    enough = errors["samples"].fillna(0) >= settings.min_error_samples
    over_lead = pd.Series(
        np.asarray(sigma, float) * np.sqrt(params["lead_time_months"].to_numpy(dtype=float)), index=skus
    )
    over_lead[enough] = errors.loc[enough, "sigma"]
    source[enough] = "backtest over the lead time"
    params["sigma_lead_time"] = over_lead
    params["sigma_source"] = source
    params["error_samples"] = errors["samples"].fillna(0).astype(int)
    params["error_origins"] = errors["origins"].fillna(0).astype(int)
    z = norm.ppf(settings.service_level)
    planned = demand.groupby("unique_id")["consensus"].sum().reindex(skus).fillna(0.0)
    ending = params["status"].isin([s.strip().lower() for s in settings.no_safety_stock_statuses])
    reason = np.where(planned <= 0, "no planned demand", np.where(ending, "status " + params["status"], ""))
    params["safety_stock_reason"] = reason
    params["safety_stock"] = np.where(reason == "", z * over_lead.to_numpy(dtype=float), 0.0)


def _opening_stock(inventory, skus: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Stock on hand per SKU at the start (locations summed) and the inventory table's safety stock."""
    opening = pd.Series(0.0, index=skus)
    policy = pd.Series(np.nan, index=skus)
    if inventory is not None and len(inventory):
        _require(inventory, "inventory", ("sku", "on_hand"))
        inv = inventory.assign(
            sku=inventory["sku"].astype(str),
            on_hand=pd.to_numeric(inventory["on_hand"], errors="coerce").fillna(0.0),
        )
        opening = inv.groupby("sku")["on_hand"].sum().reindex(skus).fillna(0.0)  # locations sum
        if "safety_stock" in inv:
            policy = (
                pd.to_numeric(inv["safety_stock"], errors="coerce")
                .groupby(inv["sku"])
                .sum(min_count=1)
                .reindex(skus)
            )
    return opening, policy


def _matrices(demand: pd.DataFrame, params: pd.DataFrame, tables: dict, months: pd.DatetimeIndex, notes):
    """Demand, open supply and its open production orders as SKU x month arrays (past-due supply lands
    in the first month)."""
    skus = params.index
    d = _grid(demand["unique_id"], demand["ds"], demand["consensus"], skus, months)[0]
    r = np.zeros_like(d)
    r_prod = np.zeros_like(d)
    supply = tables.get("supply")
    if supply is not None and len(supply):
        _require(supply, "supply", ("sku", "month", "quantity"))
        s = supply.assign(
            sku=supply["sku"].astype(str),
            month=_month_start(supply["month"]),
            quantity=pd.to_numeric(supply["quantity"], errors="coerce").fillna(0.0),
        )
        s = s[s["sku"].isin(skus)]
        past = s["month"] < months[0]
        if past.any():
            notes.append(
                f"{int(past.sum())} open supply line(s) were due before {months[0]:%Y-%m}; "
                "counted as arriving in the first month"
            )
        s.loc[past, "month"] = months[0]
        r = _grid(s["sku"], s["month"], s["quantity"], skus, months)[0]
        if "kind" in s:
            made = s[s["kind"].astype(str).str.strip().str.lower() == "production"]
            r_prod = _grid(made["sku"], made["month"], made["quantity"], skus, months)[0]
    return d, r, r_prod


def _capacity(tables, resources, months, settings, notes):
    """Regular hours, overtime hours and hourly rate per resource and month."""
    cap = tables.get("capacity")
    shape = (len(resources), len(months))
    if not resources:
        return np.zeros(shape), np.zeros(shape), np.zeros(shape)
    if cap is None or not len(cap):
        raise PlanError(
            f"the capacity table is empty but resource {resources[0]} makes products; "
            "add its hours per month to the capacity table"
        )
    _require(cap, "capacity", ("resource", "month", "hours"), error=PlanError)
    cap = cap.assign(resource=cap["resource"].astype(str), month=_month_start(cap["month"]))
    for column in ("hours", "overtime_hours", "cost_per_hour"):
        if column in cap:
            values = pd.to_numeric(cap[column], errors="coerce")
            bad = values < 0
            if column == "hours":
                bad |= values.isna()
            if bad.any():
                row = cap[bad].iloc[0]
                raise PlanError(
                    f"capacity.{column} for resource {row['resource']} in {row['month']:%Y-%m} is "
                    f"{_show(row[column])}; it must be a number >= 0 (hours 0 when the resource is closed)"
                )
            cap[column] = values
    missing = [r for r in resources if r not in set(cap["resource"])]
    if missing:
        raise PlanError(
            f"resource {missing[0]} makes products but has no rows in the capacity table "
            f"(needed for {months[0]:%Y-%m} to {months[-1]:%Y-%m}); add its hours per month"
        )
    # months without a row take the nearest month's figures (carried forward, else back)
    calendar = pd.DatetimeIndex(sorted(set(cap["month"]) | set(months)))
    inside = calendar.get_indexer(months)
    arrays = []
    for column, default in (
        ("hours", 0.0),
        ("overtime_hours", 0.0),
        ("cost_per_hour", settings.cost_per_hour),
    ):
        if column not in cap:
            arrays.append(np.full(shape, default))
            continue
        given = cap[column].notna()
        total, count = _grid(
            cap.loc[given, "resource"], cap.loc[given, "month"], cap.loc[given, column], resources, calendar
        )
        if column == "cost_per_hour":
            total = total / np.where(count > 0, count, 1)
        full = pd.DataFrame(np.where(count > 0, total, np.nan))
        if column == "hours" and (count[:, inside] == 0).any():
            r, t = np.argwhere(count[:, inside] == 0)[0]
            notes.append(
                f"capacity has no row for some resource-months (first: {resources[r]} "
                f"{months[t]:%Y-%m}); the nearest month's hours are used"
            )
        arrays.append(full.ffill(axis=1).bfill(axis=1).fillna(default).to_numpy()[:, inside])
    return arrays[0], arrays[1], arrays[2]


def _build(demand_plan, tables, settings, error_stats, backtest, period, notes):
    """The SKU parameters, the SKU x month `Problem` and the high-demand case (the 80% upper bound)."""
    demand, params = _sku_frame(demand_plan, tables, settings, error_stats, backtest, period, notes)
    months = pd.DatetimeIndex(sorted(demand["ds"].unique()))
    months = pd.date_range(months[0], months[-1], freq="MS")
    d, r, r_prod = _matrices(demand, params, tables, months, notes)
    d_high = d
    if "yhat_hi_80" in demand.columns:
        high = pd.to_numeric(demand["yhat_hi_80"], errors="coerce")
        given = high.notna().to_numpy()
        grid, count = _grid(
            demand["unique_id"][given], demand["ds"][given], high[given], params.index, months
        )
        d_high = np.where(count > 0, np.maximum(grid, d), d)
    resources = sorted(set(params["resource"]) - {PURCHASED})
    regular, overtime, rate = _capacity(tables, resources, months, settings, notes)
    hours = params["hours_per_unit"].to_numpy()
    res = pd.Index(resources).get_indexer(params["resource"])
    committed = np.zeros((len(resources), len(months)))
    for t in range(len(months)):
        committed[:, t] = np.bincount(
            res[res >= 0], weights=(r_prod[:, t] * hours)[res >= 0], minlength=len(resources)
        )
    over = committed > regular + overtime + 1e-9
    if over.any():
        i, t = np.argwhere(over)[0]
        raise PlanError(
            f"open production orders need {committed[i, t]:,.0f} hours on resource {resources[i]} "
            f"in {months[t]:%Y-%m} but it has {regular[i, t]:,.0f} regular + {overtime[i, t]:,.0f} "
            "overtime hours; move orders or add capacity"
        )
    lead = params["lead_time_months"].to_numpy()
    first = np.maximum(np.ceil(lead - 1e-9), settings.frozen_months).astype(int)
    params["first_month"] = [months[i] if i < len(months) else pd.NaT for i in first]
    prob = Problem(
        demand=d,
        supply=r,
        supply_production=r_prod,
        opening=params["opening_on_hand"].to_numpy(dtype=float),
        safety=params["safety_stock"].to_numpy(dtype=float),
        unit_cost=params["unit_cost"].to_numpy(dtype=float),
        unit_price=params["unit_price"].to_numpy(dtype=float),
        hours=hours.astype(float),
        res=res,
        first=first,
        lot=params["lot_size"].to_numpy(dtype=float),
        min_order=params["min_order"].to_numpy(dtype=float),
        resources=resources,
        regular=regular,
        overtime=overtime,
        rate=rate,
        committed=committed,
        months=months,
    )
    return params, prob, d_high


def net_requirements(opening, supply, demand, safety) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative production each SKU needs by month t: (A, C) with A to avoid shortages and C to
    also hold safety stock (see the module docstring). Rows = SKUs, columns = months.

    Args:
        opening: The opening net position per SKU.
        supply: Open supply per SKU and month.
        demand: Demand per SKU and month.
        safety: The safety stock per SKU.

    Returns:
        `(A, C)`: cumulative production needed to avoid shortages, and to also hold safety stock.

    Example:
        >>> demand = np.array([[10.0, 10.0, 10.0]])
        >>> a, c = net_requirements(np.array([15.0]), np.zeros((1, 3)), demand, np.array([4.0]))
        >>> a.tolist(), c.tolist()
        ([[0.0, 5.0, 15.0]], [[0.0, 9.0, 19.0]])
    """
    n0 = net_positions(opening, supply, np.zeros_like(demand), demand)
    shortfall = np.maximum.accumulate(np.maximum(-n0, 0.0), axis=1)
    below = np.maximum.accumulate(np.maximum(np.asarray(safety, float)[:, None] - n0, 0.0), axis=1)
    return shortfall, below


def lead_time_errors(backtest: pd.DataFrame, lead_months: pd.Series) -> pd.DataFrame:
    """Forecast errors over each SKU's lead time, from every origin of a rolling backtest.

    For a SKU with lead time L (whole months, at least 1), each backtest origin gives one error per
    window of L consecutive horizon steps s..s+L-1 (s = 1, 2, ...): the sum of actual - forecast over
    the window, i.e. the error of the forecast of lead-time demand. The SKU's sigma over the lead time
    is the root mean square of those errors (about zero: bias counts).

    Args:
        backtest: `unique_id, cutoff, step, y, yhat` (demand planning's `backtest` product).
        lead_months: Lead time in months per SKU (index `unique_id`).

    Returns:
        `unique_id, sigma, samples, origins`, one row per SKU of `lead_months` (sigma NaN and
        samples 0 where the backtest has no window as long as the lead time).

    Example:
        >>> bt = pd.DataFrame({"unique_id": "A", "cutoff": pd.Timestamp("2026-01-01"), "step": [1, 2, 3],
        ...                    "y": [10.0, 12.0, 8.0], "yhat": [9.0, 9.0, 9.0]})
        >>> lead_time_errors(bt, pd.Series({"A": 2.0})).iloc[0].tolist()   # windows: 1+3, 3-1
        ['A', 3.1622776601683795, 2, 1]
    """
    lead = np.maximum(np.ceil(pd.to_numeric(lead_months, errors="coerce").fillna(1.0) - 1e-9), 1).astype(int)
    out = pd.DataFrame({"unique_id": lead.index.astype(str), "sigma": np.nan, "samples": 0, "origins": 0})
    needed = {"unique_id", "cutoff", "step", "y", "yhat"}
    if backtest is None or not len(backtest) or not needed <= set(backtest.columns):
        return out
    bt = backtest[list(needed)].dropna(subset=["y", "yhat", "step"])
    bt = bt.assign(
        unique_id=bt["unique_id"].astype(str), error=bt["y"] - bt["yhat"], step=bt["step"].astype(int)
    )
    bt = bt[bt["unique_id"].isin(out["unique_id"]) & (bt["step"] >= 1)]
    if bt.empty:
        return out
    wide = bt.pivot_table(index=["unique_id", "cutoff"], columns="step", values="error", aggfunc="sum")
    wide = wide.reindex(columns=range(1, int(wide.columns.max()) + 1))
    errors = wide.to_numpy(dtype=float)
    valid = ~np.isnan(errors)
    value_sum = np.concatenate([np.zeros((len(errors), 1)), np.cumsum(np.nan_to_num(errors), axis=1)], axis=1)
    count_sum = np.concatenate([np.zeros((len(errors), 1)), np.cumsum(valid, axis=1)], axis=1)
    uid = wide.index.get_level_values("unique_id")
    row_lead = lead.reindex(uid).to_numpy()
    squares, samples = np.zeros(len(errors)), np.zeros(len(errors))
    for length in np.unique(row_lead):
        rows = row_lead == length
        if length > errors.shape[1]:
            continue
        window = value_sum[rows, length:] - value_sum[rows, :-length]
        full = (count_sum[rows, length:] - count_sum[rows, :-length]) == length
        squares[rows] = np.where(full, window**2, 0.0).sum(axis=1)
        samples[rows] = full.sum(axis=1)
    per_sku = pd.DataFrame({"unique_id": uid, "squares": squares, "samples": samples, "origin": samples > 0})
    per_sku = per_sku.groupby("unique_id").agg(
        squares=("squares", "sum"), samples=("samples", "sum"), origins=("origin", "sum")
    )
    per_sku = per_sku.reindex(out["unique_id"])
    n = per_sku["samples"].fillna(0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["sigma"] = np.where(n > 0, np.sqrt(per_sku["squares"].to_numpy() / np.where(n > 0, n, 1)), np.nan)
    out["samples"] = n.astype(int)
    out["origins"] = per_sku["origins"].fillna(0).to_numpy().astype(int)
    return out


# ---------------------------------------------------------------- the plan
def plan(
    demand_plan: pd.DataFrame,
    tables: dict,
    settings: SupplyParams | None = None,
    error_stats: pd.DataFrame | None = None,
    period=None,
    backtest: pd.DataFrame | None = None,
) -> SupplyPlan:
    """Rough-cut capacity, chase / level / cost-optimal SKU production plans and the SKU inventory projection.

    Pure: reads only its arguments. Every strategy is planned per SKU (`salesops.supply.sku`): whole
    units and lots, after each SKU's lead time and the frozen months, within each resource-month's
    regular + overtime hours; all three are costed the same way.

    Args:
        demand_plan: `unique_id, family, ds, consensus` (units per SKU and month; optional
            `yhat_lo_80, yhat_hi_80`: the upper bound is the high-demand case of `fill_rate_high`).
        tables: The contract's `products`, `inventory`, `capacity` and `supply` tables.
        settings: The supply parameters (default `SupplyParams()`).
        error_stats: `unique_id, sigma` (one-month forecast error), the fallback for safety stock.
        period: `YYYY-MM`; demand before it is dropped.
        backtest: Demand planning's `backtest` (`unique_id, cutoff, step, y, yhat`): safety stock
            comes from its errors over each SKU's lead time (`lead_time_errors`).

    Returns:
        The `SupplyPlan`.

    Raises:
        PlanError: No plan can be made (names the resource and the month).
        DataError: The inputs cannot be planned (names the table, column and row).

    Example:
        >>> months = pd.to_datetime(["2026-11-01", "2026-12-01", "2027-01-01"])
        >>> dp = pd.DataFrame({"unique_id": "A", "family": "F", "ds": months, "consensus": [0.0, 10.0, 30.0]})
        >>> products = pd.DataFrame({"sku": ["A"], "family": ["F"], "unit_price": [10.0], "unit_cost": [6.0],
        ...                          "resource": ["line"], "hours_per_unit": [1.0], "lead_time_months": [1]})
        >>> capacity = pd.DataFrame({"resource": "line", "month": months, "hours": [20.0, 20.0, 20.0]})
        >>> sp = plan(dp, {"products": products, "capacity": capacity}, SupplyParams(fallback_error_cv=0))
        >>> sp.production_plan.query("strategy == 'optimal'")["production"].tolist()
        [0.0, 20.0, 20.0]
    """
    settings = settings or SupplyParams()
    notes: list[str] = []
    params, prob, d_high = _build(demand_plan, tables, settings, error_stats, backtest, period, notes)
    made = _production_plans(prob, settings, notes)
    rows, detail = _strategy_products(prob, made, d_high, params, settings)
    return _supply_plan(params, prob, made, rows, detail, settings, notes)


def _production_plans(prob: Problem, settings: SupplyParams, notes: list[str]) -> dict[str, np.ndarray]:
    """The SKU x month production of every strategy (chase, level, then cost-optimal from both)."""
    made = {"chase": chase(prob), "level": level(prob)}
    solution = solve_optimal(prob, settings, (made["chase"], made["level"]))
    made["optimal"] = solution.made
    notes.append(_solution_note(solution))
    return made


def _strategy_products(
    prob: Problem, made: dict, d_high, params: pd.DataFrame, settings
) -> tuple[dict, dict]:
    """Each strategy's rows of every product (`plan`, `summary`, `group`, `sku`, `service`) and evaluation."""
    totals = _Totals.of(params, len(prob.months))
    required, _ = net_requirements(prob.opening, prob.supply, prob.demand, prob.safety)
    requirement = np.diff(required, axis=1, prepend=0.0)
    rows: dict[str, list] = {"plan": [], "summary": [], "group": [], "sku": [], "service": []}
    detail = {}
    for name in STRATEGIES:
        e = evaluate(prob, made[name], settings)
        products = _strategy_rows(name, prob, made[name], e, d_high, requirement, params, totals)
        for product, frame in products.items():
            rows[product].append(frame)
        detail[name] = e
    return rows, detail


def _supply_plan(params, prob: Problem, made: dict, rows: dict, detail: dict, settings, notes) -> SupplyPlan:
    """The `SupplyPlan` of the rows of all strategies, with the detail of the strategy in use."""
    e = detail[settings.strategy]
    capacity_load = _capacity_load(prob, params, e)
    projection = _projection(params, prob, made[settings.strategy], e, settings)
    return SupplyPlan(
        _clean(capacity_load),
        _clean(pd.concat(rows["plan"], ignore_index=True)),
        _clean(projection),
        _clean(pd.DataFrame(rows["summary"])),
        params.reset_index(),
        _clean(pd.concat(rows["group"], ignore_index=True)),
        settings.strategy,
        notes,
        _clean(pd.concat(rows["sku"], ignore_index=True)),
        _clean(pd.concat(rows["service"], ignore_index=True)),
    )


@dataclass(frozen=True)
class _Totals:
    """Sums SKU x month arrays to families and to family-resource groups (`keys`)."""

    families: pd.Index
    sku_family: np.ndarray
    keys: pd.DataFrame
    sku_group: np.ndarray
    horizon: int

    @classmethod
    def of(cls, params: pd.DataFrame, horizon: int) -> _Totals:
        """The families and family-resource groups of the SKUs in `params`."""
        families = pd.Index(sorted(set(params["family"])))
        keys = params[["family", "resource"]].drop_duplicates().sort_values(["family", "resource"])
        keys = keys.reset_index(drop=True)
        sku_group = (
            params[["family", "resource"]].merge(keys.reset_index(), on=["family", "resource"], how="left")[
                "index"
            ]
        ).to_numpy()
        return cls(families, families.get_indexer(params["family"]), keys, sku_group, horizon)

    def total_by(self, values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
        """Sum of the rows of `values` with the same code, per month (size rows)."""
        return np.stack(
            [np.bincount(codes, weights=values[:, t], minlength=size) for t in range(self.horizon)], axis=1
        )

    def family(self, values: np.ndarray) -> np.ndarray:
        """Family x month totals of SKU x month values."""
        return self.total_by(values, self.sku_family, len(self.families))

    def group(self, values: np.ndarray) -> np.ndarray:
        """Family-resource group x month totals of SKU x month values."""
        return self.total_by(values, self.sku_group, len(self.keys))


def _strategy_rows(name, prob: Problem, x, e: dict, d_high, requirement, params, totals: _Totals) -> dict:
    """One strategy's rows of every product: `plan`, `group`, `sku`, `summary` and `service`."""
    lost = np.zeros_like(x)
    lost[:, -1] = e["shortage"][:, -1]
    # the high case one month at a time: month t's demand at its upper bound, served from the
    # plan's stock at the end of t (the months do not compound: see the module docstring)
    high = np.maximum(d_high - prob.demand - e["net"], 0.0)
    late = np.minimum(prob.demand, e["shortage"])
    return {
        "plan": _family_plan(name, prob, x, e, lost, totals),
        "group": _group_plan(name, prob, x, e, requirement, totals),
        "sku": _sku_plan(name, prob, x, e, params),
        "summary": _strategy_summary(name, prob, x, e, d_high, high, late),
        "service": _family_service(name, prob, d_high, high, late, lost, totals),
    }


def _family_plan(name, prob: Problem, x, e: dict, lost, totals: _Totals) -> pd.DataFrame:
    """One strategy's production plan per family and month (family totals of its SKU plans)."""
    months, horizon, families = prob.months, len(prob.months), totals.families
    cost = sum(e[k] for k in COST_PARTS)
    return pd.DataFrame(
        {
            "strategy": name,
            "family": np.repeat(families, horizon),
            "month": np.tile(months, len(families)),
            "demand": totals.family(prob.demand).ravel(),
            "production": totals.family(x).ravel(),
            "inventory": totals.family(e["on_hand"]).ravel(),
            "backlog": totals.family(e["shortage"]).ravel(),
            "regular_hours": totals.family(e["regular_hours"]).ravel(),
            "overtime_hours": totals.family(e["overtime_hours"]).ravel(),
            "cost": totals.family(cost).ravel(),
            "overtime_cost": totals.family(e["overtime_cost"]).ravel(),
            "lost_units": totals.family(lost).ravel(),
        }
    )


def _group_plan(name, prob: Problem, x, e: dict, requirement, totals: _Totals) -> pd.DataFrame:
    """One strategy's requirement, production and hours per family, resource and month."""
    horizon, keys = len(prob.months), totals.keys
    return pd.DataFrame(
        {
            "strategy": name,
            "family": np.repeat(keys["family"].to_numpy(), horizon),
            "resource": np.repeat(keys["resource"].to_numpy(), horizon),
            "month": np.tile(prob.months, len(keys)),
            "requirement": totals.group(requirement).ravel(),
            "production": totals.group(x).ravel(),
            "regular_hours": totals.group(e["regular_hours"]).ravel(),
            "overtime_hours": totals.group(e["overtime_hours"]).ravel(),
            "overtime_cost": totals.group(e["overtime_cost"]).ravel(),
        }
    )


def _sku_plan(name, prob: Problem, x, e: dict, params: pd.DataFrame) -> pd.DataFrame:
    """One strategy's plan per SKU and month, with its cost parts."""
    return pd.DataFrame(
        {
            "strategy": name,
            "unique_id": np.repeat(params.index.to_numpy(), len(prob.months)),
            "month": np.tile(prob.months, len(params)),
            "production": x.ravel(),
            "on_hand": e["on_hand"].ravel(),
            "shortage": e["shortage"].ravel(),
            "hours": e["hours"].ravel(),
            "overtime_hours": e["overtime_hours"].ravel(),
            **{k: e[k].ravel() for k in (*COST_PARTS, "safety_stock_penalty")},
        }
    )


def _strategy_summary(name, prob: Problem, x, e: dict, d_high, high, late) -> dict:
    """One strategy's row of the summary: costs, fill rates, overtime, units late and lost."""
    beyond = np.maximum(e["used_hours"] - prob.regular - prob.overtime, 0.0)
    row = {"strategy": name, **{k: float(e[k].sum()) for k in COST_PARTS}}
    row["total_cost"] = sum(row[k] for k in COST_PARTS)
    row.update(
        safety_stock_penalty=float(e["safety_stock_penalty"].sum()),
        closing_stock_value=float(e["closing_stock_value"].sum()),
        fill_rate=fill_rate(prob.demand, e["shortage"]),
        fill_rate_high=fill_rate(d_high, high),
        late_units=float(late.sum()),
        lost_units=float(e["shortage"][:, -1].sum()),
        units_made=float(x.sum()),
        overtime_hours=float(e["resource_overtime"].sum()),
        hours_beyond_capacity=float(beyond.sum()),
        ending_backlog=float(e["shortage"][:, -1].sum()),
        ending_inventory=float(e["on_hand"][:, -1].sum()),
    )
    return row


def _family_service(name, prob: Problem, d_high, high, late, lost, totals: _Totals) -> pd.DataFrame:
    """One strategy's demand, late and lost units and fill rates per family."""
    family_demand, family_high = totals.family(prob.demand).sum(axis=1), totals.family(d_high).sum(axis=1)
    family_late = totals.family(late).sum(axis=1)
    family_late_high = totals.family(np.minimum(d_high, high)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "strategy": name,
                "family": totals.families,
                "demand": family_demand,
                "late_units": family_late,
                "lost_units": totals.family(lost).sum(axis=1),
                "fill_rate": np.where(family_demand > 0, 1 - family_late / family_demand, 1.0),
                "fill_rate_high": np.where(family_high > 0, 1 - family_late_high / family_high, 1.0),
            }
        )


def _solution_note(solution: Solution) -> str:
    """One sentence on how the cost-optimal plan was solved and how far from optimal it can be."""
    by_method: dict[str, list[str]] = {}
    for resource, method in solution.methods.items():
        by_method.setdefault(method, []).append(resource)
    words = {
        "mip": "exact MIP",
        "chase": "chase (cheaper than the rounded LP)",
        "level": "level (cheaper than the rounded LP)",
    }

    def word(method: str) -> str:
        if method.startswith("lp rounded"):
            return f"LP rounded {method.split()[-1]} to whole lots"
        return words.get(method, method)

    parts = [f"{word(m)} for {', '.join(r)}" for m, r in by_method.items()]
    return (
        f"Cost-optimal plan: {'; '.join(parts)}; its cost (spend + safety-stock penalty) is at most "
        f"{solution.gap:.2%} above the best possible (the LP lower bound)"
    )


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Solver round-off (|x| < 1e-6) shown as 0."""
    for column in frame.select_dtypes("number").columns:
        values = frame[column].to_numpy()
        frame[column] = np.where(np.abs(values) < 1e-6, 0.0, values)
    return frame


def _capacity_load(prob: Problem, params: pd.DataFrame, e: dict) -> pd.DataFrame:
    columns = [
        "resource",
        "month",
        "required_hours",
        "available_hours",
        "overtime_hours",
        "utilisation",
        "overload_hours",
        "planned_hours",
        "planned_overtime_hours",
        "beyond_overtime_hours",
        "status",
    ]
    months, resources = prob.months, prob.resources
    if not resources:
        return pd.DataFrame(columns=columns)
    capacitated = prob.res >= 0
    required = np.stack(
        [
            np.bincount(
                prob.res[capacitated],
                weights=(prob.demand[capacitated, t] * prob.hours[capacitated]),
                minlength=len(resources),
            )
            for t in range(len(months))
        ],
        axis=1,
    )
    frame = pd.DataFrame(
        {
            "resource": np.repeat(resources, len(months)),
            "month": np.tile(months, len(resources)),
            "required_hours": required.ravel(),
            "available_hours": prob.regular.ravel(),
            "overtime_hours": prob.overtime.ravel(),
            "planned_hours": e["used_hours"].ravel(),
            "planned_overtime_hours": e["resource_overtime"].ravel(),
        }
    )
    positive = frame["available_hours"] > 0
    frame["utilisation"] = np.where(
        positive,
        frame["required_hours"] / frame["available_hours"].where(positive, 1),
        np.where(frame["required_hours"] > 0, np.inf, 0.0),
    )
    frame["overload_hours"] = (frame["required_hours"] - frame["available_hours"]).clip(lower=0)
    frame["beyond_overtime_hours"] = (
        frame["required_hours"] - frame["available_hours"] - frame["overtime_hours"]
    ).clip(lower=0)
    frame["status"] = np.select(
        [
            frame["required_hours"] > frame["available_hours"] + frame["overtime_hours"],
            frame["required_hours"] > frame["available_hours"],
        ],
        ["over capacity", "needs overtime"],
        "ok",
    )
    return frame[columns]


def _projection(params, prob: Problem, production, e: dict, settings) -> pd.DataFrame:
    d, months = prob.demand, prob.months
    on_hand = e["on_hand"]
    ss = prob.safety[:, None] * np.ones_like(d)
    ahead = forward_demand(d)
    excess = np.maximum(on_hand - ss - settings.excess_cover_months * ahead, 0.0)
    n_skus, horizon = d.shape
    cost = np.repeat(prob.unit_cost, horizon)
    price = np.repeat(prob.unit_price, horizon)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(params.index.to_numpy(), horizon),
            "family": np.repeat(params["family"].to_numpy(), horizon),
            "month": np.tile(months, n_skus),
            "demand": d.ravel(),
            "supply": prob.supply.ravel(),
            "production": production.ravel(),
            "on_hand": on_hand.ravel(),
            "safety_stock": ss.ravel(),
            "shortage": e["shortage"].ravel(),
            "excess": excess.ravel(),
            "weeks_of_supply": weeks_of_supply(on_hand, ahead).ravel(),
            "below_safety_stock": e["below_safety_stock"].ravel(),
        }
    )
    frame["on_hand_value"] = frame["on_hand"] * cost
    frame["shortage_value"] = frame["shortage"] * price
    frame["excess_value"] = frame["excess"] * cost
    return frame


# ---------------------------------------------------------------- views for the report
def overload_drivers(supply_plan: SupplyPlan, by: str = "family", top: int = 3) -> pd.DataFrame:
    """The SKUs or families whose demand loads each overloaded resource-month most.

    One row per overloaded (required > regular hours) resource and month and its `top` contributors:
    `resource, month, <by>, required_hours, share` (share of the month's required hours).

    Args:
        supply_plan: The supply plan.
        by: `family` or `unique_id` (SKUs).
        top: How many contributors per resource-month.

    Returns:
        `resource, month, <by>, required_hours, share`.

    Raises:
        ValueError: `by` is neither `family` nor `unique_id`.

    Example:
        >>> overload_drivers(sp, by="unique_id", top=2)   # doctest: +SKIP
    """
    if by not in ("family", "unique_id"):
        raise ValueError("by must be 'family' or 'unique_id'")
    load = supply_plan.capacity_load
    overloaded = load[load["required_hours"] > load["available_hours"]][["resource", "month"]]
    columns = ["resource", "month", by, "required_hours", "share"]
    if overloaded.empty:
        return pd.DataFrame(columns=columns)
    params = supply_plan.sku_parameters[["unique_id", "resource", "hours_per_unit"]]
    hours = supply_plan.inventory_projection[["unique_id", "family", "month", "demand"]].merge(
        params, on="unique_id"
    )
    hours["required_hours"] = hours["demand"] * hours["hours_per_unit"]
    hours = hours.merge(overloaded, on=["resource", "month"])
    hours = hours.groupby(["resource", "month", by], as_index=False)["required_hours"].sum()
    hours["share"] = hours["required_hours"] / hours.groupby(["resource", "month"])[
        "required_hours"
    ].transform("sum")
    hours = hours.sort_values(["resource", "month", "required_hours"], ascending=[True, True, False])
    return hours.groupby(["resource", "month"]).head(top)[columns].reset_index(drop=True)


def risk_by_sku(supply_plan: SupplyPlan, top: int | None = 10) -> pd.DataFrame:
    """SKUs ranked by risk: value of demand they cannot meet, then value of stock below safety stock.

    Columns: `unique_id, family, shortage_units, shortage_value, first_shortage, months_below_safety_stock,
    peak_below_safety_stock, fill_rate, min_weeks_of_supply`.

    Args:
        supply_plan: The supply plan.
        top: How many SKUs to keep (None: all).

    Returns:
        One row per SKU, riskiest first, with the columns above.
    """
    p = supply_plan.inventory_projection.merge(
        supply_plan.sku_parameters[["unique_id", "unit_price"]], on="unique_id"
    )
    p["late"] = np.minimum(p["demand"], p["shortage"])
    p["below_value"] = p["below_safety_stock"] * p["unit_price"]
    first = p[p["shortage"] > 0].groupby("unique_id")["month"].min()
    out = p.groupby(["unique_id", "family"], as_index=False).agg(
        shortage_units=("late", "sum"),
        shortage_value=("shortage_value", "max"),
        demand=("demand", "sum"),
        months_below_safety_stock=("below_safety_stock", lambda s: int((s > 1e-6).sum())),
        below_value=("below_value", "sum"),
        peak_below_safety_stock=("below_safety_stock", "max"),
        min_weeks_of_supply=("weeks_of_supply", "min"),
    )
    out = out.merge(first.rename("first_shortage"), left_on="unique_id", right_index=True, how="left")
    out["fill_rate"] = np.where(
        out["demand"] > 0, 1 - out["shortage_units"] / out["demand"].where(out["demand"] > 0, 1), 1.0
    )
    out = out.sort_values(
        ["shortage_value", "below_value", "min_weeks_of_supply"], ascending=[False, False, True]
    )
    out = out[
        [
            "unique_id",
            "family",
            "shortage_units",
            "shortage_value",
            "first_shortage",
            "months_below_safety_stock",
            "peak_below_safety_stock",
            "fill_rate",
            "min_weeks_of_supply",
        ]
    ].reset_index(drop=True)
    return out.head(top) if top else out


def shortages(supply_plan: SupplyPlan) -> pd.DataFrame:
    """Month by month, the SKUs that cannot be served:
    `unique_id, family, month, demand, shortage, shortage_value`.

    Args:
        supply_plan: The supply plan.

    Returns:
        One row per SKU-month short, by month then largest shortage value first.
    """
    p = supply_plan.inventory_projection
    return (
        p[p["shortage"] > 1e-9][["unique_id", "family", "month", "demand", "shortage", "shortage_value"]]
        .sort_values(["month", "shortage_value"], ascending=[True, False])
        .reset_index(drop=True)
    )


def excess(supply_plan: SupplyPlan, min_units: float = 0.5) -> pd.DataFrame:
    """SKUs holding at least `min_units` excess stock, at the month their excess value peaks:
    `unique_id, family, month, on_hand, safety_stock, excess, excess_value, weeks_of_supply`.

    Args:
        supply_plan: The supply plan.
        min_units: The excess, in units, below which a SKU is left out.

    Returns:
        One row per SKU, largest excess value first.
    """
    p = supply_plan.inventory_projection
    p = p[p["excess"] >= min_units]
    columns = [
        "unique_id",
        "family",
        "month",
        "on_hand",
        "safety_stock",
        "excess",
        "excess_value",
        "weeks_of_supply",
    ]
    if p.empty:
        return pd.DataFrame(columns=columns)
    peak = p.loc[p.groupby("unique_id")["excess_value"].idxmax()]
    return peak[columns].sort_values("excess_value", ascending=False).reset_index(drop=True)
