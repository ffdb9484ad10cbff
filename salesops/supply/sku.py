"""SKU-level production strategies: every plan is made per SKU, in whole units and lots, after each SKU's
lead time, within each resource-month's regular + overtime hours, and costed the same way.

Why SKU level and not a family plan split afterwards: a family plan uses one average hours-per-unit
and cannot say which SKU the stock built ahead belongs to, so a split of it can need more hours than
the resource has and put stock on the wrong SKUs. Planning each SKU with its own hours per unit keeps
every resource-month within its hours by construction (the constraint is written on SKU hours).

Per SKU s and month t (net position n = on hand - backlog, as in `planning`):

    n_st = n_s,t-1 + supply_st + make_st - demand_st
    make_st = 0 for t < first_s = max(ceil(lead time_s), frozen months)   (only firm receipts land earlier)
    make_st a whole multiple of lot_s, and 0 or >= min_order_s
    sum over SKUs on resource r of hours_s x make_st + committed_rt <= regular_rt + overtime_rt

Costs (spend; `total_cost` is their sum):

    production   unit_cost x make
    overtime     (overtime_premium x cost_per_hour of the resource-month) x every hour above regular,
                 open production orders included (all of the resource-month's overtime is charged)
    holding      holding_cost_rate x unit_cost x on hand, every month end
    backlog      backlog_cost_rate x unit_price x backlog, every month end
    lost sales   lost_sale_rate x unit_price x backlog left at the end of the horizon

Beside the spend, not in it: the safety-stock penalty (safety_stock_shortfall_rate x unit_price x units
below safety stock, month ends; the cost-optimal plan weighs it) and the closing stock value (unit cost
x on hand at the end of the horizon).

The cost-optimal plan solves one model per resource with HiGHS (`solve_optimal`): by default the LP
relaxation (`scipy.optimize.linprog`, sparse), rounded to whole lots month by month (up, to the nearest
and down; the cheapest kept) and cut back to the hours where rounding would exceed them; a MIP
(`scipy.optimize.milp`, integer lots, a binary per SKU-month where a minimum order applies) for
resources with at most `mip_max_variables` production variables, or for every resource with
`exact_lots: true`. Per resource, chase or level replaces it where they cost less. The LP's optimum is
a lower bound on any plan: the plan's note gives the gap to it. On the demo (150 SKUs x 18 months, 3
resources, lots of 12 and minimum runs of 50) the rounded LP is solved in under a second, within 0.4%
of the LP bound and no worse than the MIP after 2 minutes per resource (which found no plan with
minimum runs on the Motor Shop).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ..exceptions import PlanError
from ..params import SupplyParams

EPS = 1e-9


@dataclass
class Problem:
    """SKU x month arrays of one plan (s SKUs, t months, r capacitated resources).

    Attributes:
        demand: s x t consensus demand.
        supply: s x t firm receipts (the `supply` table; open orders of any kind).
        supply_production: s x t the part of `supply` that is open production orders (takes hours).
        opening: s on hand at the start.
        safety: s safety stock.
        unit_cost: s standard unit cost.
        unit_price: s unit price.
        hours: s hours per unit (0 when bought in).
        res: s resource index, -1 when bought in.
        first: s first month index new production or purchase may land.
        lot: s lot size (1 = whole units).
        min_order: s minimum order (0 = none).
        resources: resource names, index r.
        regular: r x t regular hours on the calendar.
        overtime: r x t overtime hours available.
        rate: r x t regular cost per hour.
        committed: r x t hours of open production orders.
        months: the months.
    """

    demand: np.ndarray
    supply: np.ndarray
    supply_production: np.ndarray
    opening: np.ndarray
    safety: np.ndarray
    unit_cost: np.ndarray
    unit_price: np.ndarray
    hours: np.ndarray
    res: np.ndarray
    first: np.ndarray
    lot: np.ndarray
    min_order: np.ndarray
    resources: list
    regular: np.ndarray
    overtime: np.ndarray
    rate: np.ndarray
    committed: np.ndarray
    months: pd.DatetimeIndex

    @property
    def limit(self) -> np.ndarray:
        """r x t hours left for new production: regular + overtime - open production orders."""
        return np.maximum(self.regular + self.overtime - self.committed, 0.0)

    @property
    def allowed(self) -> np.ndarray:
        """s x t True where new production or purchase may land (the lead time has passed)."""
        return np.arange(self.demand.shape[1])[None, :] >= self.first[:, None]


# ---------------------------------------------------------------- lots and hours
def to_lots(want, lot, min_order) -> np.ndarray:
    """Round wanted units up to whole lots, and up to the minimum order when below it (0 stays 0).

    Args:
        want: Units wanted per SKU (fractions allowed; <= 0 means none).
        lot: Lot size per SKU (1 = whole units).
        min_order: Minimum order per SKU (0 = none).

    Returns:
        Units per SKU: a multiple of the lot, 0 or at least the minimum order.

    Example:
        >>> to_lots(np.array([0.2, 7.0, 30.0, 0.0]), np.array([1.0, 5.0, 5.0, 5.0]),
        ...         np.array([0.0, 20.0, 0.0, 20.0])).tolist()
        [1.0, 20.0, 30.0, 0.0]
    """
    want = np.asarray(want, float)
    lot = np.asarray(lot, float)
    minimum = np.ceil(np.asarray(min_order, float) / lot - EPS) * lot
    q = np.where(want > 1e-6, np.ceil(want / lot - 1e-6) * lot, 0.0)
    return np.where((q > 0) & (q < minimum), minimum, q)


def fit_hours(q: np.ndarray, t: int, p: Problem, priority: np.ndarray) -> np.ndarray:
    """Cut month t's production back, in whole lots, to each resource's hours left.

    On a resource whose SKUs would need more than `p.limit[:, t]`, each SKU is scaled down and
    floored to whole lots (a quantity below its minimum order becomes 0); the hours this frees are
    given back one lot at a time to the SKUs cut, highest `priority` first, while they fit.

    Args:
        q: Units per SKU for month t (multiples of lots).
        t: The month index.
        p: The problem.
        priority: Per SKU, higher is served first.

    Returns:
        Units per SKU that fit every resource's hours.
    """
    q = q.copy()
    limit = p.limit[:, t]
    capacitated = p.res >= 0
    used = np.bincount(p.res[capacitated], weights=(q * p.hours)[capacitated], minlength=len(p.resources))
    for r in np.flatnonzero(used > limit + 1e-7):
        members = np.flatnonzero((p.res == r) & (q > 0))
        lot, hours = p.lot[members], p.hours[members]
        minimum = np.ceil(p.min_order[members] / lot - EPS) * lot
        factor = limit[r] / used[r]
        cut = np.floor(q[members] * factor / lot + 1e-9) * lot
        cut = np.where(cut < minimum, 0.0, cut)
        slack = limit[r] - float((cut * hours).sum())
        step = np.where(cut > 0, lot, np.maximum(lot, minimum))
        order = np.argsort(-priority[members], kind="stable")
        for k in order:  # give freed hours back, one step per SKU, best first
            if cut[k] + step[k] <= q[members][k] + 1e-9 and step[k] * hours[k] <= slack + 1e-9:
                cut[k] += step[k]
                slack -= step[k] * hours[k]
        q[members] = cut
    return q


def _month_by_month(p: Problem, want_of, priority: np.ndarray) -> np.ndarray:
    """Production month by month: `want_of(t, net, made)` units wanted, in lots, within the hours."""
    n_skus, horizon = p.demand.shape
    made = np.zeros((n_skus, horizon))
    net = p.opening.astype(float).copy()
    allowed = p.allowed
    for t in range(horizon):
        want = np.where(allowed[:, t], want_of(t, net, made), 0.0)
        q = fit_hours(to_lots(want, p.lot, p.min_order), t, p, priority)
        made[:, t] = q
        net = net + p.supply[:, t] + q - p.demand[:, t]
    return made


def _priority(p: Problem) -> np.ndarray:
    """Who gets scarce hours first: the most revenue per hour."""
    return p.unit_price / np.maximum(p.hours, 1e-6)


# ---------------------------------------------------------------- strategies
def chase(p: Problem) -> np.ndarray:
    """Chase: each month make what brings each SKU back to its safety stock (net of backlog).

    want_st = max(0, demand_st + safety_s - n_s,t-1 - supply_st), from the SKU's first allowed month,
    rounded up to lots and the minimum order, and cut back to the resource's hours when short.

    Args:
        p: The problem.

    Returns:
        s x t production.
    """
    return _month_by_month(
        p,
        lambda t, net, made: np.maximum(0.0, p.demand[:, t] + p.safety - net - p.supply[:, t]),
        _priority(p),
    )


def level(p: Problem) -> np.ndarray:
    """Level: one steady rate per SKU from its first allowed month, catching up capped months.

    rate_s = (net requirement over the horizon + safety stock) / months from first_s on, the
    requirement netted SKU by SKU against stock and firm receipts; each month makes what brings
    cumulative production up to rate x months so far (so a month cut back by capacity is made up
    as soon as hours allow), in lots, within the hours.

    Args:
        p: The problem.

    Returns:
        s x t production.
    """
    horizon = p.demand.shape[1]
    n0 = p.opening[:, None] + np.cumsum(p.supply - p.demand, axis=1)
    need = np.maximum(p.safety - n0.min(axis=1), 0.0)  # make-to-cover with safety stock, whole horizon
    months_open = np.maximum(horizon - p.first, 1)
    rate = need / months_open
    elapsed = np.arange(horizon)[None, :] - p.first[:, None] + 1
    target = rate[:, None] * np.clip(elapsed, 0, None)
    return _month_by_month(p, lambda t, net, made: target[:, t] - made[:, :t].sum(axis=1), _priority(p))


POOL_MIN_VARIABLES = 50_000  # LP production variables above which resources are solved in parallel


@dataclass
class Solution:
    """How the cost-optimal plan was made.

    Attributes:
        made: s x t production.
        methods: Resource name (or "(bought in)") to how its plan was made: `mip`, `lp rounded up`
            (`nearest`, `down`: the rounding that cost least), or `chase` / `level` where that plan
            cost less.
        objective: The plan's spend plus safety-stock penalty.
        bound: A lower bound on the objective of any plan (the LP relaxation's optimum, summed over
            resources; the MIP's own bound where the MIP was used).
    """

    made: np.ndarray
    methods: dict
    objective: float
    bound: float

    @property
    def gap(self) -> float:
        """(objective - bound) / objective: how far from optimal the plan can at most be."""
        return max(self.objective - self.bound, 0.0) / self.objective if self.objective > 0 else 0.0


def optimal(p: Problem, settings: SupplyParams, candidates: tuple[np.ndarray, ...] = ()) -> np.ndarray:
    """Cost-optimal production (see `solve_optimal`, which also says how each resource was solved).

    Args:
        p: The problem.
        settings: The supply parameters (cost rates, MIP settings).
        candidates: Other s x t plans (chase, level); per resource the cheapest is kept.

    Returns:
        s x t production.
    """
    return solve_optimal(p, settings, candidates).made


def solve_optimal(p: Problem, settings: SupplyParams, candidates: tuple[np.ndarray, ...] = ()) -> Solution:
    """Cost-optimal production: one HiGHS model per resource (and one for bought-in SKUs).

    Minimises the spend of the module docstring plus the safety-stock penalty under the SKU hours,
    lead times, lots and minimum orders. Each resource is solved one of two ways:

    * MIP (`scipy.optimize.milp`): whole lots, a binary per SKU-month where a minimum order applies;
      for every resource when `settings.exact_lots`, else only for resources with at most
      `settings.mip_max_variables` production variables (these solve in milliseconds).
    * LP relaxation (`scipy.optimize.linprog`, sparse), then rounded: month by month each SKU makes
      what brings its cumulative production up to the LP's, rounded up to whole lots and the minimum
      order (`to_lots`), and where a resource-month would exceed its hours the quantities are cut back
      in whole lots (`fit_hours`, the repair); what is cut is made as soon as hours allow. Rounding up
      the cumulative quantity keeps each SKU at least as well served as the LP, at the holding cost
      of less than one lot (or one minimum order) per SKU.

    A MIP that finds no plan within `settings.mip_time_limit_s` falls back to the rounded LP. Finally,
    per resource, a `candidates` plan (chase, level) replaces the solver's plan where it costs less,
    so the cost-optimal plan never costs more than the others. Resources are independent (hours are
    per resource; every cost is per SKU or per resource-month), so the choice is made per resource.
    Large LPs (over `POOL_MIN_VARIABLES` production variables in all) are solved in parallel
    processes; smaller ones in this process (no pool start-up).

    Args:
        p: The problem.
        settings: The supply parameters (cost rates, MIP settings).
        candidates: Other s x t plans (chase, level).

    Returns:
        The `Solution`: the plan, each resource's method, its objective and a lower bound.

    Raises:
        PlanError: HiGHS finds no plan (names the resource and the months).
    """
    horizon = p.demand.shape[1]
    blocks = [(r, np.flatnonzero(p.res == r)) for r in range(-1, len(p.resources))]
    blocks = [(r, members) for r, members in blocks if len(members)]
    exact = [
        (r, m) for r, m in blocks if settings.exact_lots or len(m) * horizon <= settings.mip_max_variables
    ]
    made = np.zeros_like(p.demand, dtype=float)
    methods, bounds, relaxed = {}, {}, []
    for r, members in exact:
        x, bound = _solve(p, members, r, settings, integer=True)
        if x is None:
            relaxed.append((r, members))
            continue
        made[members] = x
        methods[r], bounds[r] = "mip", bound
    relaxed += [(r, m) for r, m in blocks if not any(r == e for e, _ in exact)]
    size = sum(len(m) for _, m in relaxed) * horizon
    workers = min(settings.workers or os.cpu_count() or 1, len(relaxed))
    if workers > 1 and size > POOL_MIN_VARIABLES:
        global _SHARED
        _SHARED = (p, settings)
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                solved = list(pool.map(_solve_shared, relaxed))
        finally:
            _SHARED = None
    else:
        solved = [_solve(p, m, r, settings, integer=False) for r, m in relaxed]
    if relaxed:
        cumulative = np.zeros_like(p.demand, dtype=float)
        mask = np.zeros(len(p.res), dtype=bool)
        for (r, members), (x, bound) in zip(relaxed, solved):
            cumulative[members] = np.cumsum(x, axis=1)
            mask[members] = True
            methods[r], bounds[r] = "lp rounded up", bound
        made[mask] = _round_cumulative(p, mask, cumulative, "up")[mask]
        others = [(f"lp rounded {how}", _round_cumulative(p, mask, cumulative, how)) for how in ROUNDINGS[1:]]
    else:
        others = []
    # per resource, keep the cheapest of the solver's plan, the other roundings and the candidates
    cost = block_objective(p, made, settings)
    for name, other in [*others, *zip(("chase", "level"), candidates)]:
        other_cost = block_objective(p, other, settings)
        for r, members in blocks:
            if other_cost[r] < cost[r] - 1e-6 * max(1.0, abs(cost[r])):
                made[members] = other[members]
                cost[r] = other_cost[r]
                methods[r] = name
    label = {r: (p.resources[r] if r >= 0 else "(bought in)") for r, _ in blocks}
    return Solution(
        made,
        {label[r]: methods[r] for r, _ in blocks},
        float(sum(cost[r] for r, _ in blocks)),
        float(sum(bounds[r] for r, _ in blocks)),
    )


def block_objective(p: Problem, made: np.ndarray, settings: SupplyParams) -> dict[int, float]:
    """Spend plus safety-stock penalty of a plan per resource index (-1: bought in).

    Args:
        p: The problem.
        made: s x t production.
        settings: The supply parameters (cost rates).

    Returns:
        Resource index to the objective of its SKUs (overtime included).
    """
    e = evaluate(p, made, settings)
    per_sku = sum(e[k] for k in COST_PARTS).sum(axis=1) + e["safety_stock_penalty"].sum(axis=1)
    return {r: float(per_sku[p.res == r].sum()) for r in range(-1, len(p.resources))}


_SHARED = None  # (problem, settings) the forked workers of `optimal` read


def _solve_shared(job):
    r, members = job
    p, settings = _SHARED
    return _solve(p, members, r, settings, integer=False)


ROUNDINGS = ("up", "nearest", "down")


def _round_cumulative(p: Problem, mask: np.ndarray, cumulative: np.ndarray, how: str = "up") -> np.ndarray:
    """Round a fractional plan of the SKUs in `mask` to whole lots month by month, within the hours.

    Each month a SKU makes what brings its cumulative production to the fractional plan's cumulative
    quantity rounded `how` (`up`, `nearest` or `down`) to whole lots (`to_lots`: the minimum order
    where that is below it); a resource-month short of hours is cut back in whole lots (`fit_hours`)
    and what is cut is made as soon as hours allow."""
    lot = p.lot[:, None]
    steps = cumulative / lot
    target = {"up": np.ceil(steps - 1e-6), "nearest": np.floor(steps + 0.5), "down": np.floor(steps + 1e-6)}[
        how
    ]
    target = target * lot
    return _month_by_month(
        p, lambda t, net, made: np.where(mask, target[:, t] - made[:, :t].sum(axis=1), 0.0), _priority(p)
    )


def _solve(p: Problem, members: np.ndarray, r: int, settings: SupplyParams, integer: bool):
    """One model for the SKUs `members` on resource r (-1: bought in). Variables per SKU-month:
    make (units, or lots when integer), stock up to safety stock (at most SS), stock above it, late;
    a binary per SKU-month where a minimum order above one lot applies (MIP only); overtime hours per
    month when capacitated. The safety-stock penalty pen x (SS - stock + late) is written as
    -pen on stock up to SS and +pen on late (its constant part dropped), so no row is needed for it.
    Returns (make in units, members x months, or None when the MIP found no plan in its time limit;
    a lower bound on the objective: the LP's optimum or the MIP's dual bound, constant part added)."""
    n, horizon = len(members), p.demand.shape[1]
    block = n * horizon
    capacitated = r >= 0
    lot = p.lot[members] if integer else np.ones(n)
    minimum = np.ceil(p.min_order[members] / p.lot[members] - EPS) * p.lot[members]
    binary = integer & (minimum > lot + EPS)
    n_bin = int(binary.sum()) * horizon
    n_ot = horizon if capacitated else 0
    n_vars = 4 * block + n_bin + n_ot
    idx = np.arange(block).reshape(n, horizon)
    make, low, high, late = idx, idx + block, idx + 2 * block, idx + 3 * block
    flag = 4 * block + np.arange(n_bin).reshape(-1, horizon)
    ot = 4 * block + n_bin + np.arange(n_ot)
    cost, price = p.unit_cost[members], p.unit_price[members]

    c = np.zeros(n_vars)
    c[make] = (cost * lot)[:, None]
    penalty = settings.safety_stock_shortfall_rate * price[:, None]
    c[low] = settings.holding_cost_rate * cost[:, None] - penalty
    c[high] = settings.holding_cost_rate * cost[:, None]
    c[late] = settings.backlog_cost_rate * price[:, None] + penalty
    c[late[:, -1]] += settings.lost_sale_rate * price
    constant = float((penalty[:, 0] * p.safety[members]).sum()) * horizon  # the penalty's dropped part

    rows, cols, vals = [], [], []

    def add(r_, c_, v_):
        (
            rows.append(np.ravel(r_)),
            cols.append(np.ravel(c_)),
            vals.append(np.broadcast_to(v_, np.shape(r_)).ravel()),
        )

    # balance: stock_t - late_t - lot x make_t - stock_{t-1} + late_{t-1} = supply_t - demand_t (+ opening)
    add(idx, low, 1.0)
    add(idx, high, 1.0)
    add(idx, late, -1.0)
    add(idx, make, -np.repeat(lot, horizon).reshape(n, horizon))
    add(idx[:, 1:], low[:, :-1], -1.0)
    add(idx[:, 1:], high[:, :-1], -1.0)
    add(idx[:, 1:], late[:, :-1], 1.0)
    rhs = p.supply[members] - p.demand[members]
    rhs[:, 0] += p.opening[members]
    lower, upper = [rhs.ravel()], [rhs.ravel()]
    n_rows = block
    if n_bin:
        # minimum order: lot x make - min x flag >= 0 and lot x make - big x flag <= 0
        who = np.flatnonzero(binary)
        big = _big_m(p, members[who], r)
        rows_lo = n_rows + np.arange(n_bin).reshape(-1, horizon)
        add(rows_lo, make[who], np.repeat(lot[who], horizon).reshape(-1, horizon))
        add(rows_lo, flag, -np.repeat(minimum[who], horizon).reshape(-1, horizon))
        add(rows_lo + n_bin, make[who], np.repeat(lot[who], horizon).reshape(-1, horizon))
        add(rows_lo + n_bin, flag, -big[:, None] * np.ones((1, horizon)))
        lower += [np.zeros(n_bin), np.full(n_bin, -np.inf)]
        upper += [np.full(n_bin, np.inf), np.zeros(n_bin)]
        n_rows += 2 * n_bin
    if capacitated:
        # hours: sum of hours x lot x make_t - overtime_t <= regular_t - committed_t
        month_rows = n_rows + np.tile(np.arange(horizon), n)
        add(month_rows, make.ravel(), np.repeat(p.hours[members] * lot, horizon))
        add(n_rows + np.arange(horizon), ot, -1.0)
        lower.append(np.full(horizon, -np.inf))
        upper.append(p.regular[r] - p.committed[r])
        n_rows += horizon
        c[ot] = settings.overtime_premium * p.rate[r]
    a = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_vars)
    )
    lb = np.zeros(n_vars)
    ub = np.full(n_vars, np.inf)
    ub[make[~p.allowed[members]]] = 0.0  # lead time and frozen months
    ub[low] = np.repeat(p.safety[members], horizon).reshape(n, horizon)
    ub[flag] = 1.0
    if capacitated:
        lb[ot] = np.maximum(0.0, p.committed[r] - p.regular[r])
        ub[ot] = np.maximum(p.overtime[r], lb[ot])
    lo, hi = np.concatenate(lower), np.concatenate(upper)
    name = p.resources[r] if capacitated else "(bought in)"
    if integer:
        integrality = np.zeros(n_vars)
        integrality[make] = 1
        integrality[flag] = 1
        result = milp(
            c,
            constraints=LinearConstraint(a, lo, hi),
            integrality=integrality,
            bounds=Bounds(lb, ub),
            # the node limit keeps the plan reproducible (a time limit alone stops at a point that
            # depends on the machine's load); the time limit is only a safety cap
            options={
                "node_limit": settings.mip_node_limit,
                "time_limit": settings.mip_time_limit_s,
                "mip_rel_gap": settings.mip_gap,
            },
        )
        if result.x is None:
            return None, -np.inf
        bound = getattr(result, "mip_dual_bound", None)
        bound = result.fun if bound is None or not np.isfinite(bound) else bound
        return np.round(result.x[make]) * lot[:, None], float(bound) + constant
    eq = np.isclose(lo, hi)
    result = linprog(
        c,
        A_ub=sparse.vstack([a[~eq & np.isfinite(hi)], -a[~eq & np.isfinite(lo)]]).tocsr(),
        b_ub=np.concatenate([hi[~eq & np.isfinite(hi)], -lo[~eq & np.isfinite(lo)]]),
        A_eq=a[eq],
        b_eq=lo[eq],
        bounds=np.column_stack([lb, ub]),
        method="highs",
    )
    if result.status != 0:
        why = {2: "infeasible", 3: "unbounded"}.get(result.status, "not solved")
        raise PlanError(
            f"the production plan for resource {name} ({p.months[0]:%Y-%m} to {p.months[-1]:%Y-%m}) is "
            f"{why}: check its capacity rows (hours, overtime_hours >= 0) and the cost rates in params supply"
        )
    x = result.x[make]
    return np.where(x > 1e-7, x, 0.0), float(result.fun) + constant


def _big_m(p: Problem, skus: np.ndarray, r: int) -> np.ndarray:
    """An upper bound on one month's production of each SKU (for the minimum-order binaries)."""
    need = p.demand[skus].sum(axis=1) + p.safety[skus] + p.min_order[skus] + p.lot[skus]
    if r >= 0:
        need = np.minimum(need, p.limit[r].max() / np.maximum(p.hours[skus], 1e-9) + p.lot[skus])
    return np.maximum(need, p.min_order[skus] + p.lot[skus])


# ---------------------------------------------------------------- costing
COST_PARTS = ("production_cost", "overtime_cost", "holding_cost", "backlog_cost", "lost_sales_cost")


def evaluate(p: Problem, made: np.ndarray, settings: SupplyParams) -> dict[str, np.ndarray]:
    """Balances, hours and costs of a plan, per SKU and month (the module docstring's definitions).

    Args:
        p: The problem.
        made: s x t new production.
        settings: The supply parameters (cost rates).

    Returns:
        SKU x month arrays `net, on_hand, shortage, below_safety_stock, hours, regular_hours,
        overtime_hours`, the cost parts of `COST_PARTS`, `safety_stock_penalty`, `closing_stock_value`
        (last month only) and per resource x month `used_hours` (open production orders included)
        and `resource_overtime`.
    """
    net = p.opening[:, None] + np.cumsum(p.supply + made - p.demand, axis=1)
    on_hand, shortage = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    cost, price = p.unit_cost[:, None], p.unit_price[:, None]
    capacitated = p.res >= 0
    sku_hours = (made + p.supply_production) * p.hours[:, None]
    sku_hours[~capacitated] = 0.0
    n_res, horizon = len(p.resources), p.demand.shape[1]
    used = np.zeros((n_res, horizon))
    for t in range(horizon):
        used[:, t] = np.bincount(p.res[capacitated], weights=sku_hours[capacitated, t], minlength=n_res)
    over = np.maximum(used - p.regular, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(used > 0, over / np.where(used > 0, used, 1), 0.0)
    padded = np.vstack([share, np.zeros((1, horizon))]) if n_res else np.zeros((1, horizon))
    rate = np.vstack([p.rate, np.zeros((1, horizon))]) if n_res else np.zeros((1, horizon))
    overtime = sku_hours * padded[p.res]
    lost = np.zeros_like(net)
    lost[:, -1] = settings.lost_sale_rate * p.unit_price * shortage[:, -1]
    closing = np.zeros_like(net)
    closing[:, -1] = p.unit_cost * on_hand[:, -1]
    below = np.maximum(p.safety[:, None] - net, 0.0)
    return {
        "net": net,
        "on_hand": on_hand,
        "shortage": shortage,
        "below_safety_stock": below,
        "hours": sku_hours,
        "regular_hours": sku_hours - overtime,
        "overtime_hours": overtime,
        "production_cost": cost * made,
        "overtime_cost": settings.overtime_premium * rate[p.res] * overtime,
        "holding_cost": settings.holding_cost_rate * cost * on_hand,
        "backlog_cost": settings.backlog_cost_rate * price * shortage,
        "lost_sales_cost": lost,
        "safety_stock_penalty": settings.safety_stock_shortfall_rate * price * below,
        "closing_stock_value": closing,
        "used_hours": used,
        "resource_overtime": over,
    }
