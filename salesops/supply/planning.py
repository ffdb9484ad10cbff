"""Supply planning: rough-cut capacity, three production strategies and the SKU inventory projection.

The plan is made at family level per resource (a *planning group* is one family on one resource;
SKUs without a resource or hours are bought in and form an uncapacitated group), then disaggregated
to SKUs by each SKU's share of need.

Inventory balance per SKU and month t, with net position n (stock minus backlog):

    n_t = n_{t-1} + supply_t + production_t - demand_t,   n_0 = on hand at the start (locations summed)
    on_hand_t = max(n_t, 0),   shortage_t = max(-n_t, 0)   (so on_hand_t - shortage_t = n_t)

Unmet demand is backlogged and served first when stock comes in; backlog left at the end of the
horizon is a lost sale. The family sum of these balances is the family plan's inventory and backlog.

Groups plan against SKU net requirements (stock of one SKU cannot serve another): with n0 the SKU's
net position without production, the production it needs by month t is A_t = max over tau <= t of
max(0, -n0_tau), and to also hold safety stock C_t = max over tau <= t of max(0, SS - n0_tau). A
group's requirement in month t is the sum over its SKUs of A_t - A_{t-1}; its safety-stock target on
stock built ahead is the sum of C_t - A_t. Strategies and the LP decide group production against
these; every strategy is then disaggregated and costed on the SKU balances.

Costs of a plan (all strategies are costed the same way):

    production     unit_cost x units made (standard cost, includes regular-time labour)
    overtime       overtime_premium x cost_per_hour x overtime hours (hours above regular in a resource-
                   month, split over its families in proportion to hours, open production orders included)
    holding        holding_cost_rate x unit_cost x on hand, every month end
    backlog        backlog_cost_rate x unit_price x backlog, every month end,
                   + unit_price x the backlog left at the end (lost sales)
    safety stock   safety_stock_shortfall_rate x unit_price x (safety stock - n)+, every month end
                   (below_safety_stock; backlog counts as stock below zero)
    closing stock  - min(unit_cost, unit_price) x on hand at the end (stock left keeps its value)

Fill rate: backlog is served first, so the part of month t's demand not met in month t is
min(demand_t, backlog_t); fill rate = 1 - sum(min(demand_t, backlog_t)) / sum(demand_t).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.stats import norm

from ..exceptions import DataError, PlanError
from ..metrics import normal_quantile
from ..params import SupplyParams
from ..steps import StepResult

STRATEGIES = ("chase", "level", "optimal")
PURCHASED = "(bought in)"
Z_80 = normal_quantile(80)  # half-width of an 80% interval in sigmas
FORWARD_MONTHS = 3  # months of coming demand that set weeks of supply and excess
WEEKS_PER_MONTH = 52 / 12


@dataclass
class SupplyPlan(StepResult):
    """The result of `plan`: tidy frames for the step's products plus the SKU parameters used.

    `production_plan` holds all three strategies; `inventory_projection` is the SKU detail of the
    strategy chosen in `SupplyParams.strategy`; `groups` is the family-per-resource plan of every strategy
    (`strategy, family, resource, month, requirement, production, regular_hours, overtime_hours`), where
    `requirement` is the group's net requirement after stock and open supply.
    """

    capacity_load: pd.DataFrame
    production_plan: pd.DataFrame
    inventory_projection: pd.DataFrame
    strategy_summary: pd.DataFrame
    sku_parameters: pd.DataFrame
    groups: pd.DataFrame
    strategy: str
    notes: list[str] = field(default_factory=list)

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

    Example:
        >>> round(float(safety_stock(10.0, 4.0, 0.95)), 2)   # 1.645 x 10 x 2
        32.9
    """
    z = norm.ppf(service_level)
    return z * np.asarray(sigma, dtype=float) * np.sqrt(np.asarray(lead_time_months, dtype=float))


def fill_rate(demand, backlog) -> float:
    """Share of demand met in the month it falls due: 1 - sum(min(demand, backlog)) / sum(demand).

    Works on arrays (months along the last axis) or Series. 1.0 when there is no demand.

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
@dataclass
class _Groups:
    """Family-per-resource arrays: g groups x t months, r resources."""

    family: np.ndarray
    resource: np.ndarray  # resource name, PURCHASED for uncapacitated groups
    demand: np.ndarray  # g x t net requirement (sum of SKU needs, after stock and open supply)
    safety_stock: np.ndarray  # g x t target for stock built ahead of requirements
    unit_cost: np.ndarray  # g
    unit_price: np.ndarray  # g
    hours_per_unit: np.ndarray  # g
    resources: list  # capacitated resources, index r
    regular: np.ndarray  # r x t available regular hours (after committed production orders)
    overtime: np.ndarray  # r x t overtime hours available
    rate: np.ndarray  # r x t regular cost per hour
    committed: np.ndarray  # r x t hours of open production orders
    months: pd.DatetimeIndex

    @property
    def resource_index(self) -> np.ndarray:
        lookup = {r: i for i, r in enumerate(self.resources)}
        return np.array([lookup.get(r, -1) for r in self.resource])


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
    demand_plan, tables, settings, error_stats, period, notes
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demand plan from `period` on (long) and one row of parameters per SKU."""
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
    prod = products.reindex(skus)
    params = pd.DataFrame(index=skus)
    params["family"] = demand.groupby("unique_id")["family"].first().reindex(skus).astype(str)
    for column in ("unit_price", "unit_cost", "hours_per_unit", "lead_time_months"):
        if column in prod:
            values = pd.to_numeric(prod[column], errors="coerce")
            if (values < 0).any():
                sku = values.index[values < 0][0]
                raise DataError(
                    f"products.{column} for SKU {sku} is {_show(values[sku])}; it must be >= 0 "
                    "(fix the products table)"
                )
    params["unit_price"] = pd.to_numeric(prod["unit_price"], errors="coerce").fillna(0.0)
    params["unit_cost"] = pd.to_numeric(prod["unit_cost"], errors="coerce").fillna(0.0)
    resource = prod["resource"] if "resource" in prod else pd.Series(np.nan, index=skus)
    hours = (
        pd.to_numeric(prod["hours_per_unit"], errors="coerce")
        if "hours_per_unit" in prod
        else pd.Series(np.nan, index=skus)
    )
    made = resource.notna() & (resource.astype(str).str.strip() != "") & (hours.fillna(0) > 0)
    params["resource"] = np.where(made, resource.astype(str), PURCHASED)
    params["hours_per_unit"] = np.where(made, hours.fillna(0.0), 0.0)
    lead = (
        pd.to_numeric(prod["lead_time_months"], errors="coerce")
        if "lead_time_months" in prod
        else pd.Series(np.nan, index=skus)
    )
    if lead.isna().any():
        notes.append(
            f"{int(lead.isna().sum())} SKU(s) have no lead time; "
            f"{settings.default_lead_time_months:g} month(s) assumed"
        )
    params["lead_time_months"] = lead.fillna(settings.default_lead_time_months).clip(lower=0)

    # sigma of forecast error: error_stats, else the 80% interval, else a share of mean demand
    sigma = pd.Series(np.nan, index=skus)
    source = pd.Series("", index=skus, dtype=object)
    if error_stats is not None and len(error_stats):
        _require(error_stats, "error_stats", ("unique_id", "sigma"))
        stats = error_stats.assign(unique_id=error_stats["unique_id"].astype(str))
        given = pd.to_numeric(stats.groupby("unique_id")["sigma"].first(), errors="coerce").reindex(skus)
        given = given.where(given >= 0)
        sigma = sigma.fillna(given)
        source[given.notna()] = "backtest"
    if {"yhat_lo_80", "yhat_hi_80"} <= set(demand.columns):
        width = (
            pd.to_numeric(demand["yhat_hi_80"], errors="coerce")
            - pd.to_numeric(demand["yhat_lo_80"], errors="coerce")
        ) / (2 * Z_80)
        from_interval = width.groupby(demand["unique_id"]).mean().reindex(skus).clip(lower=0)
        fill = sigma.isna() & from_interval.notna()
        sigma[fill] = from_interval[fill]
        source[fill] = "80% interval"
    mean_demand = demand.groupby("unique_id")["consensus"].mean().reindex(skus).fillna(0.0)
    fill = sigma.isna()
    sigma[fill] = settings.fallback_error_cv * mean_demand[fill]
    source[fill] = f"{settings.fallback_error_cv:.0%} of mean demand"
    params["sigma"] = sigma
    params["sigma_source"] = source
    params["safety_stock"] = safety_stock(sigma, params["lead_time_months"], settings.service_level)

    inventory = tables.get("inventory")
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
    params["opening_on_hand"] = opening
    params["policy_safety_stock"] = policy
    return demand, params


def _matrices(demand: pd.DataFrame, params: pd.DataFrame, tables: dict, months: pd.DatetimeIndex, notes):
    """Demand and open supply as SKU x month arrays (past-due supply lands in the first month)."""
    skus = params.index
    d = _grid(demand["unique_id"], demand["ds"], demand["consensus"], skus, months)[0]
    r = np.zeros_like(d)
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
    return d, r


def _committed_hours(tables, params, months, resources) -> np.ndarray:
    """Hours that open production orders (supply.kind == production) take on their resource."""
    out = np.zeros((len(resources), len(months)))
    supply = tables.get("supply")
    if supply is None or not len(supply) or "kind" not in supply:
        return out
    s = supply[supply["kind"].astype(str).str.lower() == "production"]
    if not len(s):
        return out
    s = s.assign(
        sku=s["sku"].astype(str),
        month=_month_start(s["month"]).clip(lower=months[0]),
        quantity=pd.to_numeric(s["quantity"], errors="coerce").fillna(0.0),
    )
    s = s.join(params[["resource", "hours_per_unit"]], on="sku", how="inner")
    s = s[s["resource"] != PURCHASED]
    s["hours"] = s["quantity"] * s["hours_per_unit"]
    return _grid(s["resource"], s["month"], s["hours"], resources, months)[0]


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


def _build(demand_plan, tables, settings, error_stats, period, notes):
    demand, params = _sku_frame(demand_plan, tables, settings, error_stats, period, notes)
    months = pd.DatetimeIndex(sorted(demand["ds"].unique()))
    months = pd.date_range(months[0], months[-1], freq="MS")
    d, r = _matrices(demand, params, tables, months, notes)
    keys = params[["family", "resource"]].drop_duplicates().sort_values(["family", "resource"])
    keys = keys.reset_index(drop=True)
    code = params[["family", "resource"]].merge(keys.reset_index(), on=["family", "resource"], how="left")[
        "index"
    ]
    code = code.to_numpy()
    n_groups = len(keys)

    def by_group(values):
        return np.stack(
            [np.bincount(code, weights=values[:, t], minlength=n_groups) for t in range(values.shape[1])],
            axis=1,
        )

    def weighted(column):
        weights = d.sum(axis=1) + 1e-9
        return np.bincount(
            code, weights=params[column].to_numpy() * weights, minlength=n_groups
        ) / np.bincount(code, weights=weights, minlength=n_groups)

    resources = sorted(r_ for r_ in keys["resource"].unique() if r_ != PURCHASED)
    regular, overtime, rate = _capacity(tables, resources, months, settings, notes)
    committed = _committed_hours(tables, params, months, resources)
    over = committed > regular + overtime + 1e-9
    if over.any():
        i, t = np.argwhere(over)[0]
        raise PlanError(
            f"open production orders need {committed[i, t]:,.0f} hours on resource {resources[i]} "
            f"in {months[t]:%Y-%m} but it has {regular[i, t]:,.0f} regular + {overtime[i, t]:,.0f} "
            "overtime hours; move orders or add capacity"
        )
    required, with_safety = net_requirements(
        params["opening_on_hand"].to_numpy(), r, d, params["safety_stock"].to_numpy()
    )
    groups = _Groups(
        family=keys["family"].to_numpy(),
        resource=keys["resource"].to_numpy(),
        demand=np.diff(by_group(required), axis=1, prepend=0.0),
        safety_stock=by_group(with_safety - required),
        unit_cost=weighted("unit_cost"),
        unit_price=weighted("unit_price"),
        hours_per_unit=weighted("hours_per_unit"),
        resources=resources,
        regular=regular - committed,
        overtime=overtime,
        rate=rate,
        committed=committed,
        months=months,
    )
    return params, d, r, code, groups


def net_requirements(opening, supply, demand, safety) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative production each SKU needs by month t: (A, C) with A to avoid shortages and C to
    also hold safety stock (see the module docstring). Rows = SKUs, columns = months.

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


# ---------------------------------------------------------------- strategies
def _capped(want: np.ndarray, t: int, g: _Groups, res: np.ndarray) -> np.ndarray:
    """Scale down the groups of a resource whose month t needs more than regular + overtime hours."""
    hours = want * g.hours_per_unit
    used = np.bincount(res[res >= 0], weights=hours[res >= 0], minlength=len(g.resources))
    limit = g.regular[:, t] + g.overtime[:, t]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(used > limit, np.maximum(limit, 0) / np.where(used > 0, used, 1), 1.0)
    return want * _per_group(factor, res, 1.0)


def _per_group(by_resource: np.ndarray, res: np.ndarray, default: float) -> np.ndarray:
    """Rows of a per-resource array for each group; `default` for bought-in groups (res == -1)."""
    padded = np.concatenate([by_resource, np.full((1, *by_resource.shape[1:]), default)])
    return padded[res]


def chase(g: _Groups) -> np.ndarray:
    """Chase: each month make what brings stock back to safety stock (net of backlog), within capacity.

    production_t = max(0, requirement_t + safety_stock_t - n_{t-1}) on the group's net requirements,
    scaled down to the resource's regular + overtime hours when it needs more.
    """
    res = g.resource_index
    production = np.zeros_like(g.demand)
    net = np.zeros(len(g.family))
    for t in range(len(g.months)):
        want = np.maximum(0.0, g.demand[:, t] + g.safety_stock[:, t] - net)
        production[:, t] = _capped(want, t, g, res)
        net = net + production[:, t] - g.demand[:, t]
    return production


def level(g: _Groups) -> np.ndarray:
    """Level: one constant rate per group, (total net requirement + closing safety stock) / months,
    i.e. (demand - stock - open supply, netted SKU by SKU) spread evenly; scaled down in a month whose
    resource cannot make it."""
    res = g.resource_index
    horizon = len(g.months)
    rate = np.maximum(0.0, (g.demand.sum(axis=1) + g.safety_stock[:, -1]) / horizon)
    return np.stack([_capped(rate, t, g, res) for t in range(horizon)], axis=1)


def optimal(g: _Groups, settings: SupplyParams) -> np.ndarray:
    """Cost-optimal production: one linear program (HiGHS) per resource, minimising the costs of
    the module docstring under regular + overtime hours. Returns production per group and month."""
    production = np.zeros_like(g.demand)
    res = g.resource_index
    for r in range(-1, len(g.resources)):
        members = np.flatnonzero(res == r)
        if len(members):
            production[members] = _solve(g, members, r, settings)
    return production


def _solve(g: _Groups, members: np.ndarray, r: int, settings: SupplyParams) -> np.ndarray:
    """One LP for the groups on resource `r` (-1: bought in, no hours). Variables per group and month:
    `make` (units), `stock` (on hand), `late` (backlog), `below` (under safety stock); then overtime
    hours per month on capacitated resources. Returns production per group and month."""
    n, horizon = len(members), len(g.months)
    block = n * horizon
    capacitated = r >= 0
    n_vars = 4 * block + (horizon if capacitated else 0)
    idx = np.arange(block).reshape(n, horizon)
    make, stock, late, below = idx, idx + block, idx + 2 * block, idx + 3 * block
    cost, price = g.unit_cost[members], g.unit_price[members]

    c = np.zeros(n_vars)
    c[make] = cost[:, None]
    c[stock] = settings.holding_cost_rate * cost[:, None]
    c[stock[:, -1]] -= np.minimum(cost, price)  # closing stock keeps its value
    c[late] = settings.backlog_cost_rate * price[:, None]
    c[late[:, -1]] += price  # backlog left at the end is a lost sale
    c[below] = settings.safety_stock_shortfall_rate * price[:, None]

    # balance: stock_t - late_t - make_t - stock_{t-1} + late_{t-1} = -requirement_t
    rows, cols, vals = [], [], []
    eq = idx.ravel()
    for var, sign in ((stock, 1.0), (late, -1.0), (make, -1.0)):
        rows.append(eq), cols.append(var.ravel()), vals.append(np.full(block, sign))
    prev = idx[:, 1:].ravel()
    rows += [prev, prev]
    cols += [stock[:, :-1].ravel(), late[:, :-1].ravel()]
    vals += [np.full(prev.size, -1.0), np.full(prev.size, 1.0)]
    a_eq = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(block, n_vars)
    )
    b_eq = -g.demand[members]

    # safety stock: -stock_t + late_t - below_t <= -safety_stock_t
    rows = [idx.ravel(), idx.ravel(), idx.ravel()]
    cols = [stock.ravel(), late.ravel(), below.ravel()]
    vals = [np.full(block, -1.0), np.full(block, 1.0), np.full(block, -1.0)]
    b_ub = [-g.safety_stock[members].ravel()]
    bounds = [(0, None)] * (4 * block)
    if capacitated:
        # hours: sum of hours_per_unit x make_t - overtime_t <= regular_t (net of open production orders)
        month_rows = block + np.tile(np.arange(horizon), n)
        rows += [month_rows, block + np.arange(horizon)]
        cols += [make.ravel(), 4 * block + np.arange(horizon)]
        vals += [np.repeat(g.hours_per_unit[members], horizon), np.full(horizon, -1.0)]
        b_ub.append(g.regular[r])
        c[4 * block :] = settings.overtime_premium * g.rate[r]
        bounds += [(max(0.0, -g.regular[r, t]), g.overtime[r, t]) for t in range(horizon)]
    n_ub = block + (horizon if capacitated else 0)
    a_ub = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_ub, n_vars)
    )
    result = linprog(
        c, A_ub=a_ub, b_ub=np.concatenate(b_ub), A_eq=a_eq, b_eq=b_eq.ravel(), bounds=bounds, method="highs"
    )
    if result.status != 0:
        name = g.resources[r] if capacitated else PURCHASED
        months = f"{g.months[0]:%Y-%m} to {g.months[-1]:%Y-%m}"
        why = {2: "infeasible", 3: "unbounded"}.get(result.status, "not solved")
        raise PlanError(
            f"the production plan for resource {name} ({months}) is {why}: check its capacity rows "
            "(hours, overtime_hours >= 0) and the cost rates in params supply"
        )
    production = result.x[make]
    return np.where(production > 1e-7, production, 0.0)


# ---------------------------------------------------------------- costing
COST_PARTS = ("production_cost", "overtime_cost", "holding_cost", "backlog_cost", "safety_stock_cost")


def _hours(g: _Groups, production: np.ndarray) -> dict[str, np.ndarray]:
    """Hours a group plan takes: per group (regular / overtime split) and per resource."""
    res = g.resource_index
    hours = production * g.hours_per_unit[:, None]
    used = np.zeros((len(g.resources), len(g.months)))
    for t in range(len(g.months)):
        used[:, t] = np.bincount(res[res >= 0], weights=hours[res >= 0, t], minlength=len(g.resources))
    over = np.maximum(used - g.regular, 0.0)  # regular is net of open production orders
    total = used + g.committed
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, over / np.where(total > 0, total, 1), 0.0)
    group_share = _per_group(share, res, 0.0)
    rate = _per_group(g.rate, res, 0.0)
    overtime = hours * group_share
    return {
        "regular_hours": hours - overtime,
        "overtime_hours": overtime,
        "used_hours": used,
        "resource_overtime": over,
        "rate": rate,
    }


def sku_costs(
    opening, supply, production, demand, safety, unit_cost, unit_price, settings: SupplyParams
) -> dict[str, np.ndarray]:
    """SKU balances and the costs of the module docstring (overtime excepted), SKU x month arrays.

    Example:
        >>> e = sku_costs(np.array([5.0]), np.zeros((1, 2)), np.array([[0.0, 10.0]]), np.array([[8.0, 4.0]]),
        ...               np.array([0.0]), np.array([6.0]), np.array([10.0]), SupplyParams())
        >>> e["shortage"].tolist(), e["on_hand"].tolist()
        ([[3.0, 0.0]], [[0.0, 3.0]])
    """
    net = net_positions(opening, supply, production, demand)
    on_hand, shortage = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    cost, price = np.asarray(unit_cost, float)[:, None], np.asarray(unit_price, float)[:, None]
    backlog_cost = settings.backlog_cost_rate * price * shortage
    backlog_cost[:, -1] += price[:, 0] * shortage[:, -1]
    closing = np.zeros_like(net)
    closing[:, -1] = np.minimum(cost, price)[:, 0] * on_hand[:, -1]
    below = np.maximum(np.asarray(safety, float)[:, None] - net, 0.0)
    return {
        "on_hand": on_hand,
        "shortage": shortage,
        "below_safety_stock": below,
        "production_cost": cost * production,
        "holding_cost": settings.holding_cost_rate * cost * on_hand,
        "backlog_cost": backlog_cost,
        "safety_stock_cost": settings.safety_stock_shortfall_rate * price * below,
        "closing_stock_credit": closing,
    }


# ---------------------------------------------------------------- SKU detail
def disaggregate(
    group_production: np.ndarray,
    code: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
    opening: np.ndarray,
    safety: np.ndarray,
) -> np.ndarray:
    """Split each group's production over its SKUs month by month by share of need.

    need_st = max(0, demand_st + safety_stock_s - n_s,t-1 - supply_st); a group with no need splits by
    demand share, and with no demand either, equally.

    Example:
        >>> disaggregate(np.array([[30.0]]), np.array([0, 0]), np.array([[10.0], [20.0]]),
        ...              np.zeros((2, 1)), np.array([0.0, 10.0]), np.zeros(2)).ravel().tolist()
        [15.0, 15.0]
    """
    n_groups, horizon = group_production.shape
    count = np.bincount(code, minlength=n_groups).astype(float)
    out = np.zeros_like(demand, dtype=float)
    net = opening.astype(float).copy()
    for t in range(horizon):
        need = np.maximum(0.0, demand[:, t] + safety - net - supply[:, t])
        need_total = np.bincount(code, weights=need, minlength=n_groups)[code]
        demand_total = np.bincount(code, weights=demand[:, t], minlength=n_groups)[code]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(
                need_total > 0,
                need / np.where(need_total > 0, need_total, 1),
                np.where(
                    demand_total > 0,
                    demand[:, t] / np.where(demand_total > 0, demand_total, 1),
                    1.0 / count[code],
                ),
            )
        out[:, t] = group_production[code, t] * share
        net = net + supply[:, t] + out[:, t] - demand[:, t]
    return out


# ---------------------------------------------------------------- the plan
def plan(
    demand_plan: pd.DataFrame,
    tables: dict,
    settings: SupplyParams | None = None,
    error_stats: pd.DataFrame | None = None,
    period=None,
) -> SupplyPlan:
    """Rough-cut capacity, chase / level / cost-optimal production plans and the SKU inventory projection.

    Pure: reads only its arguments. `demand_plan` has `unique_id, family, ds, consensus` (units per
    SKU and month; optional `yhat_lo_80, yhat_hi_80`); `tables` holds the contract's `products`,
    `inventory`, `capacity` and `supply` tables; `error_stats` (`unique_id, sigma`) gives sigma for
    safety stock (else the 80% interval, else `fallback_error_cv` x mean demand); `period` (YYYY-MM)
    drops demand before it. Raises `PlanError` naming resource and month when no plan can be made.

    Example:
        >>> months = pd.to_datetime(["2026-11-01", "2026-12-01"])
        >>> dp = pd.DataFrame({"unique_id": "A", "family": "F", "ds": months, "consensus": [10.0, 30.0]})
        >>> products = pd.DataFrame({"sku": ["A"], "family": ["F"], "unit_price": [10.0], "unit_cost": [6.0],
        ...                          "resource": ["line"], "hours_per_unit": [1.0]})
        >>> capacity = pd.DataFrame({"resource": "line", "month": months, "hours": [20.0, 20.0]})
        >>> tables = {"products": products, "capacity": capacity}
        >>> sp = plan(dp, tables, SupplyParams(fallback_error_cv=0))
        >>> sp.production_plan.query("strategy == 'optimal'")["production"].tolist()
        [20.0, 20.0]
    """
    settings = settings or SupplyParams()
    notes: list[str] = []
    params, d, r, code, g = _build(demand_plan, tables, settings, error_stats, period, notes)
    months, horizon = g.months, len(g.months)
    made = {"chase": chase(g), "level": level(g), "optimal": optimal(g, settings)}
    opening, safety = params["opening_on_hand"].to_numpy(), params["safety_stock"].to_numpy()
    families = pd.Index(sorted(set(g.family)))
    sku_family = families.get_indexer(params["family"])
    group_family = families.get_indexer(g.family)

    def to_family(values, codes):
        return np.stack(
            [np.bincount(codes, weights=values[:, t], minlength=len(families)) for t in range(horizon)],
            axis=1,
        )

    plan_rows, summary_rows, detail = [], [], {}
    for name in STRATEGIES:
        sku_production = disaggregate(made[name], code, d, r, opening, safety)
        e = sku_costs(
            opening, r, sku_production, d, safety, params["unit_cost"], params["unit_price"], settings
        )
        h = _hours(g, made[name])
        overtime_cost = settings.overtime_premium * h["rate"] * h["overtime_hours"]
        fam = {
            k: to_family(e[k], sku_family)
            for k in (*COST_PARTS[:1], *COST_PARTS[2:], "closing_stock_credit", "on_hand", "shortage")
        }
        fam["overtime_cost"] = to_family(overtime_cost, group_family)
        cost = sum(fam[k] for k in COST_PARTS) - fam["closing_stock_credit"]
        plan_rows.append(
            pd.DataFrame(
                {
                    "strategy": name,
                    "family": np.repeat(families, horizon),
                    "month": np.tile(months, len(families)),
                    "demand": to_family(d, sku_family).ravel(),
                    "production": to_family(sku_production, sku_family).ravel(),
                    "inventory": fam["on_hand"].ravel(),
                    "backlog": fam["shortage"].ravel(),
                    "regular_hours": to_family(h["regular_hours"], group_family).ravel(),
                    "overtime_hours": to_family(h["overtime_hours"], group_family).ravel(),
                    "cost": cost.ravel(),
                }
            )
        )
        row = {
            "strategy": name,
            **{k: float(fam[k].sum()) for k in COST_PARTS},
            "closing_stock_credit": float(fam["closing_stock_credit"].sum()),
        }
        row["total_cost"] = sum(row[k] for k in COST_PARTS) - row["closing_stock_credit"]
        row["fill_rate"] = fill_rate(d, e["shortage"])
        row["overtime_hours"] = float(h["resource_overtime"].sum())
        row["ending_backlog"] = float(e["shortage"][:, -1].sum())
        row["ending_inventory"] = float(e["on_hand"][:, -1].sum())
        summary_rows.append(row)
        detail[name] = (sku_production, h)
    production_plan = pd.concat(plan_rows, ignore_index=True)
    summary = pd.DataFrame(summary_rows)
    groups_frame = pd.DataFrame(
        {
            "strategy": np.repeat(STRATEGIES, len(g.family) * horizon),
            "family": np.tile(np.repeat(g.family, horizon), len(STRATEGIES)),
            "resource": np.tile(np.repeat(g.resource, horizon), len(STRATEGIES)),
            "month": np.tile(months, len(g.family) * len(STRATEGIES)),
            "requirement": np.tile(g.demand.ravel(), len(STRATEGIES)),
            "production": np.concatenate([made[k].ravel() for k in STRATEGIES]),
            "regular_hours": np.concatenate([detail[k][1]["regular_hours"].ravel() for k in STRATEGIES]),
            "overtime_hours": np.concatenate([detail[k][1]["overtime_hours"].ravel() for k in STRATEGIES]),
        }
    )

    sku_production, hours = detail[settings.strategy]
    capacity_load = _capacity_load(g, params, d, hours)
    projection = _projection(params, months, d, r, sku_production, settings)
    return SupplyPlan(
        _clean(capacity_load),
        _clean(production_plan),
        _clean(projection),
        _clean(summary),
        params.reset_index(),
        _clean(groups_frame),
        settings.strategy,
        notes,
    )


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Solver round-off (|x| < 1e-6) shown as 0."""
    for column in frame.select_dtypes("number").columns:
        values = frame[column].to_numpy()
        frame[column] = np.where(np.abs(values) < 1e-6, 0.0, values)
    return frame


def _capacity_load(g: _Groups, params: pd.DataFrame, d: np.ndarray, hours: dict) -> pd.DataFrame:
    columns = [
        "resource",
        "month",
        "required_hours",
        "available_hours",
        "overtime_hours",
        "utilisation",
        "overload_hours",
        "planned_hours",
        "status",
    ]
    months = g.months
    resources = g.resources
    if not resources:
        return pd.DataFrame(columns=columns)
    sku_hours = d * params["hours_per_unit"].to_numpy()[:, None]
    required = (
        pd.DataFrame(sku_hours, index=params["resource"].to_numpy(), columns=months)
        .groupby(level=0)
        .sum()
        .reindex(index=resources, columns=months)
        .fillna(0.0)
        .to_numpy()
    )
    available = g.regular + g.committed  # regular hours on the calendar
    frame = pd.DataFrame(
        {
            "resource": np.repeat(resources, len(months)),
            "month": np.tile(months, len(resources)),
            "required_hours": required.ravel(),
            "available_hours": available.ravel(),
            "overtime_hours": g.overtime.ravel(),
            "planned_hours": (hours["used_hours"] + g.committed).ravel(),
        }
    )
    positive = frame["available_hours"] > 0
    frame["utilisation"] = np.where(
        positive,
        frame["required_hours"] / frame["available_hours"].where(positive, 1),
        np.where(frame["required_hours"] > 0, np.inf, 0.0),
    )
    frame["overload_hours"] = (frame["required_hours"] - frame["available_hours"]).clip(lower=0)
    frame["status"] = np.select(
        [
            frame["required_hours"] > frame["available_hours"] + frame["overtime_hours"],
            frame["required_hours"] > frame["available_hours"],
        ],
        ["over capacity", "needs overtime"],
        "ok",
    )
    return frame[columns]


def _projection(params, months, d, r, production, settings) -> pd.DataFrame:
    e = sku_costs(
        params["opening_on_hand"].to_numpy(),
        r,
        production,
        d,
        params["safety_stock"].to_numpy(),
        params["unit_cost"],
        params["unit_price"],
        settings,
    )
    on_hand = e["on_hand"]
    ss = params["safety_stock"].to_numpy()[:, None] * np.ones_like(d)
    ahead = forward_demand(d)
    excess = np.maximum(on_hand - ss - settings.excess_cover_months * ahead, 0.0)
    n_skus, horizon = d.shape
    cost = np.repeat(params["unit_cost"].to_numpy(), horizon)
    price = np.repeat(params["unit_price"].to_numpy(), horizon)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(params.index.to_numpy(), horizon),
            "family": np.repeat(params["family"].to_numpy(), horizon),
            "month": np.tile(months, n_skus),
            "demand": d.ravel(),
            "supply": r.ravel(),
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
    `unique_id, family, month, demand, shortage, shortage_value`."""
    p = supply_plan.inventory_projection
    return (
        p[p["shortage"] > 1e-9][["unique_id", "family", "month", "demand", "shortage", "shortage_value"]]
        .sort_values(["month", "shortage_value"], ascending=[True, False])
        .reset_index(drop=True)
    )


def excess(supply_plan: SupplyPlan, min_units: float = 0.5) -> pd.DataFrame:
    """SKUs holding at least `min_units` excess stock, at the month their excess value peaks:
    `unique_id, family, month, on_hand, safety_stock, excess, excess_value, weeks_of_supply`."""
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
