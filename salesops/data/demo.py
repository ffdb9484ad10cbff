"""The demo company: a small home-appliance maker with a realistic sales and CRM history.

Everything derives from one seeded random generator, so the same seed gives the same bytes. The
history always ends in `DEMO_LAST_MONTH`, so the output never depends on today's date.

Example:
    >>> tables = generate_demo(seed=1, skus=20, months=12, reps=8)
    >>> sorted(tables)[:3]
    ['budget', 'capacity', 'inventory']
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..safety import neutralise_frame
from .contract import TABLE_NAMES

DEMO_LAST_MONTH = "2026-10"
DEMO_VERSION = 8  # bump when the generator changes, so cached demo files are rebuilt

# What the demo plants for its S&OP loop (params/2026-*.yaml tell the story): promotions that sales
# knew of and entered as overrides (they help), and a retailer that delisted the blenders from May
# 2026, which the statistical forecast learns only slowly (bias and tracking-signal alerts).
PLANTED_PROMOTIONS = {
    ("KET-1003", "2026-06"): 1.7,
    ("AIR-1008", "2026-08"): 1.8,
    ("COF-1009", "2026-09"): 1.7,
}
PLANTED_DELISTING = ("Blenders", "2026-05", 0.6)  # family, first month, share of demand kept

# family, code, resource, typical price, monthly units per SKU, seasonal amplitude, peak month (1-12)
FAMILIES = (
    ("Kettles", "KET", "Assembly Line A", 39.0, 420, 0.25, 12),
    ("Toasters", "TOA", "Assembly Line A", 45.0, 300, 0.20, 12),
    ("Coffee Makers", "COF", "Assembly Line A", 89.0, 220, 0.30, 11),
    ("Espresso Machines", "ESP", "Assembly Line B", 349.0, 60, 0.40, 12),
    ("Blenders", "BLE", "Assembly Line B", 79.0, 180, 0.30, 6),
    ("Juicers", "JUI", "Assembly Line B", 119.0, 90, 0.45, 7),
    ("Air Fryers", "AIR", "Assembly Line B", 129.0, 260, 0.25, 11),
    ("Stand Mixers", "STM", "Motor Shop", 299.0, 70, 0.35, 12),
    ("Hand Mixers", "HAM", "Motor Shop", 49.0, 200, 0.30, 12),
    ("Food Processors", "FOP", "Motor Shop", 159.0, 80, 0.30, 11),
)
RESOURCES = ("Assembly Line A", "Assembly Line B", "Motor Shop")
MODEL_WORDS = (
    "Classic",
    "Pro",
    "Compact",
    "Deluxe",
    "Steel",
    "Glass",
    "Mini",
    "Max",
    "Smart",
    "Eco",
    "Retro",
    "Touch",
    "Duo",
    "Plus",
    "Elite",
    "Studio",
)
FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Pablo",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bianca",
    "Carlos",
    "Dana",
    "Emil",
    "Fiona",
    "Goran",
    "Hana",
    "Ivan",
    "Julia",
)
LAST = (
    "Alvarez",
    "Brooks",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
    "Quint",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Andersen",
    "Becker",
    "Costa",
    "Diaz",
)
TEAMS = (
    ("Enterprise East", "East"),
    ("Enterprise West", "West"),
    ("Mid-Market", "Central"),
    ("Retail Chains", "Central"),
)
ACCOUNT_A = (
    "North",
    "Blue",
    "Prime",
    "Urban",
    "Green",
    "Metro",
    "Coastal",
    "Summit",
    "Harbor",
    "Pioneer",
    "Silver",
    "Oak",
    "Bright",
    "Central",
    "Golden",
    "Union",
)
ACCOUNT_B = (
    "Home",
    "Kitchen",
    "Living",
    "Market",
    "Retail",
    "Stores",
    "Goods",
    "Outlet",
    "Supply",
    "Trading",
    "Depot",
    "Emporium",
)
ACCOUNT_C = ("Ltd", "Inc", "GmbH", "Group", "Co", "LLC", "S.A.", "plc")
SURVEY_QUESTION = "How likely are you to recommend working here to a friend?"


def _months(months: int) -> pd.DatetimeIndex:
    last = pd.Timestamp(f"{DEMO_LAST_MONTH}-01")
    return pd.date_range(end=last, periods=months, freq="MS")


def _fmt_month(idx) -> np.ndarray:
    return pd.DatetimeIndex(idx).strftime("%Y-%m-%d").to_numpy()


def _planted(sku_ids: list[str], families: list[tuple], hist: pd.DatetimeIndex) -> np.ndarray:
    """Multipliers of monthly demand for the planted promotions and the delisting (1 elsewhere)."""
    factor = np.ones((len(sku_ids), len(hist)))
    col = {m.strftime("%Y-%m"): j for j, m in enumerate(hist)}
    row = {sku: i for i, sku in enumerate(sku_ids)}
    for (sku, month), lift in PLANTED_PROMOTIONS.items():
        if sku in row and month in col:
            factor[row[sku], col[month]] = lift
    family, first, kept = PLANTED_DELISTING
    hit = np.array([f[0] == family for f in families])
    factor[np.ix_(hit, hist >= pd.Timestamp(f"{first}-01"))] *= kept
    return factor


@dataclass(frozen=True)
class _Catalogue:
    """The demo's products, one entry per SKU (families sit together)."""

    sku_ids: list[str]
    names: list[str]
    fam: list[tuple]
    unit_price: np.ndarray
    unit_cost: np.ndarray
    hours: np.ndarray
    lead: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    status: np.ndarray

    @property
    def sku_arr(self) -> np.ndarray:
        """The SKU codes as an array."""
        return np.array(self.sku_ids)

    @property
    def launch(self) -> np.ndarray:
        """Which SKUs are launched inside the history."""
        return self.kind == "launch"

    @property
    def eol(self) -> np.ndarray:
        """Which SKUs reach their end of life inside the history."""
        return self.kind == "eol"


@dataclass(frozen=True)
class _Demand:
    """Units sold per SKU (rows) and month of history (columns), with the promotions and base levels."""

    qty: np.ndarray
    promo: np.ndarray
    level: np.ndarray


@dataclass(frozen=True)
class _SalesTeam:
    """The demo's reps: names, team (index into `TEAMS`) and start dates."""

    names: list[str]
    team_idx: np.ndarray
    start: list[pd.Timestamp]


def generate_demo(
    seed: int = 42, skus: int = 150, months: int = 48, reps: int = 25
) -> dict[str, pd.DataFrame]:
    """The demo company's input tables as frames (columns as in the data contract).

    History runs over `months` months ending in `DEMO_LAST_MONTH` (2026-10); capacity and budget run
    24 months past it, quotas 12 months.

    Args:
        seed: The random seed: same seed and sizes, same tables.
        skus: The number of products.
        months: The number of months of history.
        reps: The number of sales reps.

    Returns:
        The input tables by name (`products`, `sales`, ...).

    Example:
        >>> t = generate_demo(seed=3, skus=12, months=12, reps=6)
        >>> t["sales"]["date"].max()
        '2026-10-01'
    """
    rng = np.random.default_rng(seed)
    hist = _months(months)
    future = pd.date_range(hist[-1] + pd.offsets.MonthBegin(1), periods=24, freq="MS")
    all_months = hist.append(future)

    # the helpers draw from `rng` one after the other: keep this order, or the same seed gives other bytes
    cat = _draw_catalogue(rng, skus, months)
    demand = _draw_demand(rng, cat, hist)
    recent = _recent_demand(demand.qty)
    inventory = _inventory_table(rng, cat, recent)
    capacity = _capacity_table(cat, demand.qty, all_months)
    supply = _supply_table(rng, cat, recent, future)
    budget = _budget_table(rng, cat, demand.qty, all_months)
    team = _draw_sales_team(rng, reps, hist)
    opportunities = _opportunities_table(rng, cat, demand.level, team, hist)
    quotas = _quotas_table(team, hist, future, _won_amount(opportunities))
    survey = _survey_table(rng, team, hist)

    tables = {
        "sales": _sales_table(cat, demand, hist),
        "products": _products_table(cat),
        "inventory": inventory,
        "capacity": capacity,
        "supply": supply,
        "budget": budget,
        "opportunities": opportunities,
        "reps": _reps_table(team),
        "quotas": quotas,
        "survey": survey,
    }
    return {name: tables[name] for name in TABLE_NAMES if name in tables}


# ---- products


def _family_of_each_sku(rng: np.random.Generator, skus: int) -> np.ndarray:
    """Index into `FAMILIES` of each SKU: families spread evenly, shuffled, then sorted together."""
    fam_idx = np.arange(skus) % len(FAMILIES)
    rng.shuffle(fam_idx)
    return np.sort(fam_idx, kind="stable")


def _sku_codes(fam_idx: np.ndarray) -> list[str]:
    """SKU codes: the family code and a running number within the family (`KET-1001`, ...)."""
    counters = np.zeros(len(FAMILIES), dtype=int)
    sku_ids = []
    for i in fam_idx:
        counters[i] += 1
        sku_ids.append(f"{FAMILIES[i][1]}-{1000 + counters[i]:04d}")
    return sku_ids


def _product_names(rng: np.random.Generator, fam_idx: np.ndarray) -> list[str]:
    """Product names: the family in the singular, two model words and a model number."""
    words = rng.integers(0, len(MODEL_WORDS), size=(len(fam_idx), 2))
    names = []
    for k, i in enumerate(fam_idx):
        singular = FAMILIES[i][0].rstrip("s")
        names.append(f"{singular} {MODEL_WORDS[words[k, 0]]} {MODEL_WORDS[words[k, 1]]} {100 + k % 900}")
    return names


def _life_cycles(rng: np.random.Generator, skus: int, months: int) -> tuple[np.ndarray, ...]:
    """Kind, start month, stop month and status per SKU (launches and end-of-life inside the history)."""
    kind = rng.choice(["steady", "launch", "eol", "intermittent"], size=skus, p=[0.68, 0.12, 0.08, 0.12])
    start = np.zeros(skus, dtype=int)
    stop = np.full(skus, months, dtype=int)
    launch = kind == "launch"
    start[launch] = rng.integers(max(1, months // 4), max(2, months - 2), size=launch.sum())
    eol = kind == "eol"
    stop[eol] = rng.integers(max(1, months // 2), max(2, months - 3), size=eol.sum())
    status = np.where(eol, "end_of_life", np.where(launch & (start >= months - 9), "launch", "active"))
    return kind, start, stop, status


def _draw_catalogue(rng: np.random.Generator, skus: int, months: int) -> _Catalogue:
    """The products: family, code, name, price, cost, hours per unit, lead time and life cycle."""
    fam_idx = _family_of_each_sku(rng, skus)
    fam = [FAMILIES[i] for i in fam_idx]
    sku_ids = _sku_codes(fam_idx)
    names = _product_names(rng, fam_idx)
    base_price = np.array([f[3] for f in fam])
    unit_price = np.round(base_price * rng.lognormal(0, 0.25, skus), 2)
    unit_cost = np.round(unit_price * rng.uniform(0.42, 0.66, skus), 2)
    hours = np.round(np.clip(unit_price / 400 * rng.uniform(0.6, 1.4, skus), 0.05, 2.0), 3)
    lead = rng.choice([1, 1, 1, 2, 2, 3], size=skus)
    kind, start, stop, status = _life_cycles(rng, skus, months)
    return _Catalogue(sku_ids, names, fam, unit_price, unit_cost, hours, lead, kind, start, stop, status)


def _products_table(cat: _Catalogue) -> pd.DataFrame:
    """The `products` table of the catalogue, with lots and minimum orders."""
    products = pd.DataFrame(
        {
            "sku": cat.sku_arr,
            "name": cat.names,
            "family": [f[0] for f in cat.fam],
            "unit_price": cat.unit_price,
            "unit_cost": cat.unit_cost,
            "resource": [f[2] for f in cat.fam],
            "hours_per_unit": cat.hours,
            "lead_time_months": cat.lead,
            "status": cat.status,
        }
    )
    # lots and minimum orders (no random draws, so the rest of the demo is unchanged): case packs of 12
    # on Assembly Line A, minimum runs of 50 on the Motor Shop
    products["lot_size"] = np.where(products["resource"] == "Assembly Line A", 12, 1)
    products["min_order"] = np.where(products["resource"] == "Motor Shop", 50, 0)
    return products


# ---- demand and sales


def _promotions(rng: np.random.Generator, skus: int, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Promoted SKU-months (about 3.5%) and the demand multiplier, with a dip the month after."""
    promo = rng.random((skus, months)) < 0.035
    uplift = np.where(promo, rng.uniform(1.3, 1.9, (skus, months)), 1.0)
    after_promo = np.roll(promo, 1, axis=1)
    after_promo[:, 0] = False
    uplift = np.where(after_promo & ~promo, 0.85, uplift)
    return promo, uplift


def _draw_demand(rng: np.random.Generator, cat: _Catalogue, hist: pd.DatetimeIndex) -> _Demand:
    """Monthly units per SKU: level x trend x season x promotions x life cycle x planted events x noise."""
    skus, months = len(cat.sku_ids), len(hist)
    t = np.arange(months)[None, :]
    level = np.array([f[4] for f in cat.fam]) * rng.lognormal(0, 0.6, skus)
    level[cat.kind == "intermittent"] = rng.uniform(0.3, 3.0, (cat.kind == "intermittent").sum())
    trend = rng.normal(0.004, 0.008, skus)[:, None]
    amp = np.array([f[5] for f in cat.fam])[:, None] * rng.uniform(0.7, 1.3, skus)[:, None]
    peak = np.array([f[6] for f in cat.fam])[:, None]
    month_no = hist.month.to_numpy()[None, :]
    season = 1 + amp * np.cos(2 * np.pi * (month_no - peak) / 12)
    promo, uplift = _promotions(rng, skus, months)
    ramp = np.where(cat.launch[:, None], np.clip((t - cat.start[:, None] + 1) / 6, 0, 1), 1.0)
    fade = np.where(cat.eol[:, None], np.clip((cat.stop[:, None] - t) / 6, 0, 1), 1.0)
    alive = (t >= cat.start[:, None]) & (t < cat.stop[:, None])
    mean = level[:, None] * np.exp(trend * (t - months)) * season * uplift * ramp * fade * alive
    mean = mean * _planted(cat.sku_ids, cat.fam, hist)
    gamma = rng.gamma(8.0, 1 / 8.0, (skus, months))
    qty = rng.poisson(mean * gamma)
    return _Demand(qty, promo, level)


def _sales_table(cat: _Catalogue, demand: _Demand, hist: pd.DatetimeIndex) -> pd.DataFrame:
    """The `sales` table: one row per SKU and month that sold, promoted months at 15% off."""
    qty = demand.qty
    r, c = np.nonzero(qty)
    discount = np.where(demand.promo[r, c], 0.85, 1.0)
    return pd.DataFrame(
        {
            "date": _fmt_month(hist)[c],
            "sku": cat.sku_arr[r],
            "quantity": qty[r, c],
            "revenue": np.round(qty[r, c] * cat.unit_price[r] * discount, 2),
        }
    )


def _recent_demand(qty: np.ndarray) -> np.ndarray:
    """Mean monthly units of each SKU over the last three months of history."""
    return qty[:, -3:].mean(axis=1)


# ---- inventory, capacity, supply and budget


def _inventory_table(rng: np.random.Generator, cat: _Catalogue, recent: np.ndarray) -> pd.DataFrame:
    """The `inventory` table: 1 to 2.5 months of recent demand; end-of-life SKUs keep some leftovers."""
    on_hand = np.round(recent * rng.uniform(0.8, 2.5, len(recent)))
    on_hand[cat.eol] = rng.integers(0, 40, cat.eol.sum())
    return pd.DataFrame(
        {
            "sku": cat.sku_arr,
            "on_hand": on_hand.astype(int),
            "safety_stock": np.round(recent * 0.5).astype(int),
            "location": "Main DC",
        }
    )


def _working_days(months: pd.DatetimeIndex) -> np.ndarray:
    """Business days (Monday to Friday) in each month."""
    return np.array(
        [
            np.busday_count(m.strftime("%Y-%m-%d"), (m + pd.offsets.MonthBegin(1)).strftime("%Y-%m-%d"))
            for m in months
        ]
    )


def _capacity_table(cat: _Catalogue, qty: np.ndarray, all_months: pd.DatetimeIndex) -> pd.DataFrame:
    """The `capacity` table: working days x shifts, sized so the busiest months run near the limit."""
    months = qty.shape[1]
    workdays = _working_days(all_months)
    res_of = np.array([f[2] for f in cat.fam])
    cap_rows = []
    for res in RESOURCES:
        load = (qty[res_of == res] * cat.hours[res_of == res][:, None]).sum(axis=0)
        per_day = max(np.quantile(load / workdays[:months], 0.9), 8.0) * 1.08 * (1 + 0.004 * months / 12)
        h = np.round(per_day * workdays * np.where(all_months.month == 8, 0.8, 1.0))  # August shutdown week
        cap_rows.append(
            pd.DataFrame(
                {
                    "resource": res,
                    "month": _fmt_month(all_months),
                    "hours": h,
                    "overtime_hours": np.round(h * 0.2),
                    "cost_per_hour": 38.0 + 6 * RESOURCES.index(res),
                }
            )
        )
    return pd.concat(cap_rows, ignore_index=True)


def _supply_table(
    rng: np.random.Generator, cat: _Catalogue, recent: np.ndarray, future: pd.DatetimeIndex
) -> pd.DataFrame:
    """The `supply` table: open orders for the next three months."""
    open_sku = np.nonzero((cat.kind != "eol") & (recent > 0))[0]
    sku_arr = cat.sku_arr
    sup_rows = []
    for k, m in enumerate(future[:3]):
        share = (0.9, 0.55, 0.2)[k]
        chosen = open_sku[rng.random(open_sku.size) < share]
        q = np.round(recent[chosen] * rng.uniform(0.6, 1.2, chosen.size) * (1.0 - 0.25 * k))
        sup_rows.append(
            pd.DataFrame(
                {
                    "sku": sku_arr[chosen],
                    "month": m.strftime("%Y-%m-%d"),
                    "quantity": q.astype(int),
                    "kind": np.where(rng.random(chosen.size) < 0.2, "purchase", "production"),
                }
            )
        )
    supply = pd.concat(sup_rows, ignore_index=True)
    return supply[supply["quantity"] > 0].reset_index(drop=True)


def _family_budget(
    rng: np.random.Generator, name: str, f_rev: np.ndarray, f_units: np.ndarray, all_months: pd.DatetimeIndex
) -> pd.DataFrame:
    """One family's budget rows: history as sold, then the same month a year earlier grown by a target."""
    months = len(f_rev)
    target = rng.uniform(1.03, 1.10)
    by_month = np.r_[f_rev, np.zeros(24)]
    units_m = np.r_[f_units, np.zeros(24)].astype(float)
    for i in range(months, len(all_months)):  # ahead: the same month a year earlier, grown
        back = i - 12 if i >= 12 else i - 1
        by_month[i] = by_month[back] * target
        units_m[i] = units_m[back] * target
    plan = by_month * rng.uniform(0.96, 1.06, len(all_months))
    return pd.DataFrame(
        {
            "family": name,
            "month": _fmt_month(all_months),
            "revenue": np.round(plan, -2),
            "units": np.round(units_m),
        }
    )


def _budget_table(
    rng: np.random.Generator, cat: _Catalogue, qty: np.ndarray, all_months: pd.DatetimeIndex
) -> pd.DataFrame:
    """The `budget` table: last year's family revenue, grown by a target, for history + 24 months."""
    fam_names = np.array([f[0] for f in cat.fam])
    rev = qty * cat.unit_price[:, None]
    bud_rows = []
    for name, *_ in FAMILIES:
        if not (fam_names == name).any():
            continue
        f_rev = rev[fam_names == name].sum(axis=0)
        f_units = qty[fam_names == name].sum(axis=0)
        bud_rows.append(_family_budget(rng, name, f_rev, f_units, all_months))
    return pd.concat(bud_rows, ignore_index=True)


# ---- reps, opportunities, quotas and survey


def _rep_names(rng: np.random.Generator, reps: int) -> list[str]:
    """Rep names from shuffled first and last names; a repeated name gets a number."""
    first = rng.permutation(len(FIRST))
    last = rng.permutation(len(LAST))
    rep_names = [
        f"{FIRST[first[i % len(FIRST)]]} {LAST[last[(i + i // len(LAST)) % len(LAST)]]}" for i in range(reps)
    ]
    seen: dict[str, int] = {}
    for i, n in enumerate(rep_names):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            rep_names[i] = f"{n} {seen[n]}"
    return rep_names


def _rep_start_dates(rng: np.random.Generator, reps: int, hist: pd.DatetimeIndex) -> list[pd.Timestamp]:
    """Start dates: three reps in four joined before the history begins, the others during it."""
    start_offsets = np.where(
        rng.random(reps) < 0.75, -rng.integers(1, 60, reps), rng.integers(0, len(hist), reps)
    )
    return [
        hist[0] + pd.DateOffset(months=int(o)) + pd.Timedelta(days=int(d))
        for o, d in zip(start_offsets, rng.integers(0, 27, reps))
    ]


def _draw_sales_team(rng: np.random.Generator, reps: int, hist: pd.DatetimeIndex) -> _SalesTeam:
    """The reps in four teams, with their names and start dates."""
    rep_names = _rep_names(rng, reps)
    team_idx = np.arange(reps) % len(TEAMS)
    return _SalesTeam(rep_names, team_idx, _rep_start_dates(rng, reps, hist))


def _reps_table(team: _SalesTeam) -> pd.DataFrame:
    """The `reps` table."""
    return pd.DataFrame(
        {
            "rep": team.names,
            "team": [TEAMS[i][0] for i in team.team_idx],
            "region": [TEAMS[i][1] for i in team.team_idx],
            "start_date": [d.strftime("%Y-%m-%d") for d in team.start],
        }
    )


def _assign_reps(
    rng: np.random.Generator, created: pd.DatetimeIndex, rep_start: list[pd.Timestamp], skill: np.ndarray
) -> np.ndarray:
    """Rep of each deal: one already on board when it was created, better reps get more."""
    rep_start_ts = pd.DatetimeIndex(rep_start)
    active = rep_start_ts.values[None, :] <= created.values[:, None]
    active[~active.any(axis=1), int(np.argmin(rep_start_ts.values))] = True
    weights = np.cumsum(active * skill[None, :], axis=1)
    draw = rng.random(len(created))[:, None] * weights[:, -1:]
    return (weights <= draw).sum(axis=1)


def _win_probability(skill: np.ndarray, rep_pick: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Chance each deal is won: its rep's skill, with the planted effect of deal size."""
    win_p = np.clip(0.45 * skill[rep_pick] / skill.mean(), 0.15, 0.8)
    # planted for the win model (no random draws): the largest third of deals by amount win half as
    # often as their rep's rate, the others 15% more often; stage alone cannot see it
    return win_p * np.where(amount > np.quantile(amount, 2 / 3), 0.5, 1.15)


def _deal_stages(
    rng: np.random.Generator,
    win_p: np.ndarray,
    closed: np.ndarray,
    created: pd.DatetimeIndex,
    last_day: pd.Timestamp,
) -> np.ndarray:
    """Stage of each deal: won or lost once closed, else by its age at the end of the history."""
    won = rng.random(len(created)) < win_p
    stage = np.where(closed, np.where(won, "won", "lost"), "")
    open_ = ~closed
    age = (last_day - created).days.to_numpy()
    stage = np.where(open_ & (age < 20), "prospecting", stage)
    stage = np.where(open_ & (age >= 20) & (age < 45), "qualified", stage)
    return np.where(open_ & (age >= 45), "proposal", stage)


def _account_names(rng: np.random.Generator, reps: int, team_of_rep: np.ndarray) -> np.ndarray:
    """Account of each deal, from the account list the teams split; reps skip the field now and then."""
    n_opp = len(team_of_rep)
    n_acc = max(20, reps * 6)
    accounts = np.array(
        [
            f"{ACCOUNT_A[i % len(ACCOUNT_A)]} {ACCOUNT_B[(i * 7 + i // 16) % len(ACCOUNT_B)]} "
            f"{ACCOUNT_C[(i * 3) % len(ACCOUNT_C)]}"
            for i in range(n_acc)
        ]
    )
    accounts = np.unique(accounts)
    acc_pick = (rng.integers(0, accounts.size // 4 + 1, n_opp) * 4 + team_of_rep) % accounts.size
    account_names = accounts[acc_pick].astype(object)
    account_names[rng.random(n_opp) < 0.005] = ""  # reps skip the field now and then
    return account_names


def _opportunities_table(
    rng: np.random.Generator, cat: _Catalogue, level: np.ndarray, team: _SalesTeam, hist: pd.DatetimeIndex
) -> pd.DataFrame:
    """The `opportunities` table: deals moving through the stages over the history."""
    reps, months = len(team.names), len(hist)
    skill = rng.lognormal(0, 0.25, reps)
    n_opp = max(10, round(3000 * reps / 25 * months / 48))
    last_day = hist[-1] + pd.offsets.MonthEnd(0)
    span = (last_day - hist[0]).days
    created = hist[0] + pd.to_timedelta(np.sort(rng.integers(0, span + 1, n_opp)), unit="D")
    rep_pick = _assign_reps(rng, created, team.start, skill)
    sku_pick = rng.integers(0, len(cat.sku_ids), n_opp)
    units = np.maximum(1, np.round(rng.lognormal(np.log(np.maximum(level[sku_pick], 2) * 1.5), 0.6)))
    amount = np.round(units * cat.unit_price[sku_pick] * rng.uniform(0.85, 1.0, n_opp), 2)
    cycle = rng.gamma(2.0, 45.0, n_opp).astype(int) + 7
    close = created + pd.to_timedelta(cycle, unit="D")
    closed = close <= last_day
    stage = _deal_stages(rng, _win_probability(skill, rep_pick, amount), closed, created, last_day)
    prob = pd.Series(stage).map(
        {"prospecting": 0.1, "qualified": 0.3, "proposal": 0.6, "won": 1.0, "lost": 0.0}
    )
    # an open deal's close date is the rep's expectation; some reps are optimistic
    expected = close.where(closed, last_day + pd.to_timedelta(rng.integers(5, 150, n_opp), unit="D"))
    return pd.DataFrame(
        {
            "opportunity_id": [f"OPP-{i + 1:06d}" for i in range(n_opp)],
            "rep": np.array(team.names)[rep_pick],
            "account": _account_names(rng, reps, team.team_idx[rep_pick]),
            "sku": cat.sku_arr[sku_pick],
            "stage": stage,
            "units": units.astype(int),
            "amount": amount,
            "created_date": created.strftime("%Y-%m-%d"),
            "close_date": pd.DatetimeIndex(expected).strftime("%Y-%m-%d"),
            "probability": prob.to_numpy(),
        }
    )


def _won_amount(opportunities: pd.DataFrame) -> float:
    """Total amount of the won deals."""
    won = opportunities["stage"].to_numpy() == "won"
    return opportunities["amount"].to_numpy()[won].sum()


def _quotas_table(
    team: _SalesTeam, hist: pd.DatetimeIndex, future: pd.DatetimeIndex, won_amount: float
) -> pd.DataFrame:
    """The `quotas` table: per rep and month, history + 12, sized on wins; new reps ramp up over 3 months."""
    months = len(hist)
    last_day = hist[-1] + pd.offsets.MonthEnd(0)
    q_months = hist.append(future[:12])
    start_month = pd.DatetimeIndex(team.start).to_period("M").to_timestamp()
    rep_months = sum(((hist >= sm) & (hist <= last_day)).sum() for sm in start_month)
    per_rep_month = won_amount / max(rep_months, 1)
    team_factor = np.array([1.25, 1.15, 0.85, 0.75])[team.team_idx]
    quota_rows = []
    for i in range(len(team.names)):
        since = (q_months.year - start_month[i].year) * 12 + (q_months.month - start_month[i].month)
        started = since >= 0
        tenure = np.clip((since + 1) / 3, 0, 1)
        growth = 1.06 ** ((np.arange(len(q_months)) - months) / 12)
        wave = 1 + 0.15 * np.cos(2 * np.pi * (q_months.month - 11) / 12)
        q = np.round(per_rep_month * team_factor[i] * tenure * growth * wave, -2)
        quota_rows.append(
            pd.DataFrame({"rep": team.names[i], "month": _fmt_month(q_months), "quota": q})[started]
        )
    return pd.concat(quota_rows, ignore_index=True)


def _survey_table(rng: np.random.Generator, team: _SalesTeam, hist: pd.DatetimeIndex) -> pd.DataFrame:
    """The `survey` table: a monthly eNPS question most reps answer; team mood drifts slowly."""
    team_idx = team.team_idx
    rep_start_ts = pd.DatetimeIndex(team.start)
    team_mood = rng.normal(7.4, 0.6, len(TEAMS))
    drift = np.cumsum(rng.normal(0, 0.12, (len(TEAMS), len(hist))), axis=1)
    s_rows = []
    for j, m in enumerate(hist):
        active = np.nonzero(rep_start_ts <= m + pd.offsets.MonthEnd(0))[0]
        answered = active[rng.random(active.size) < 0.8]
        mood = team_mood[team_idx[answered]] + drift[team_idx[answered], j]
        score = np.clip(np.round(rng.normal(mood, 1.6)), 0, 10).astype(int)
        day = rng.integers(3, 26, answered.size)
        s_rows.append(
            pd.DataFrame(
                {
                    "respondent": [f"R-{i + 1:03d}" for i in answered],
                    "team": [TEAMS[i][0] for i in team_idx[answered]],
                    "date": [(m + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in day],
                    "score": score,
                    "question": SURVEY_QUESTION,
                }
            )
        )
    return pd.concat(s_rows, ignore_index=True)


def write_demo(
    directory: str | Path, seed: int = 42, skus: int = 150, months: int = 48, reps: int = 25
) -> dict[str, Path]:
    """Write the demo company's tables as `<table>.csv` into `directory`; same seed, same bytes.

    Args:
        directory: The folder to write into (created when missing).
        seed: The random seed: same seed and sizes, same bytes.
        skus: The number of products.
        months: The number of months of history.
        reps: The number of sales reps.

    Returns:
        The path of each CSV file, by table name.

    Example:
        >>> paths = write_demo("/tmp/demo-doc", seed=1, skus=20, months=12, reps=8)
        >>> paths["sales"].name
        'sales.csv'
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in generate_demo(seed, skus, months, reps).items():
        path = directory / f"{name}.csv"
        safe = neutralise_frame(frame)  # no cell a spreadsheet would run as a formula
        _atomic_write(path, lambda tmp, f=safe: f.to_csv(tmp, index=False, lineterminator="\n"))
        paths[name] = path
    return paths


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename (readers never see half a file).

    The file gets the mode a plain `open()` would give it (0666 less the umask, usually 0644), not
    the owner-only 0600 of the temporary file, so a scheduler running as another user can read it.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def demo_source(p) -> str:
    """Path of the embedded demo company as a DuckDB file, built on first use and cached.

    The file sits in `OUT/.cache/demo-<seed>-<skus>-<months>-<reps>.duckdb`.

    Args:
        p: The validated parameters (`p.demo` sizes the company, `p.out` holds the cache).

    Returns:
        The path of the DuckDB file.

    Example:
        >>> import salesops as so
        >>> path = demo_source(so.params.load(period="2026-11", out="/tmp/so-doc"))
        >>> path.endswith("demo-42-150-48-25.duckdb")
        True
    """
    import duckdb

    d = p.demo
    cache = Path(p.out) / ".cache"
    path = cache / f"demo-{d.seed}-{d.skus}-{d.months}-{d.reps}.duckdb"
    if path.exists() and _demo_version(path) == DEMO_VERSION:
        return str(path)
    cache.mkdir(parents=True, exist_ok=True)
    tables = generate_demo(d.seed, d.skus, d.months, d.reps)

    def write(tmp: str) -> None:
        Path(tmp).unlink(missing_ok=True)
        con = duckdb.connect(tmp)
        try:
            for name, frame in tables.items():
                con.register("frame", frame)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
                con.unregister("frame")
            con.execute(f"CREATE TABLE _salesops_demo AS SELECT {DEMO_VERSION} AS version")
        finally:
            con.close()

    _atomic_write(path, write)
    return str(path)


def _demo_version(path: Path) -> int | None:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("SELECT version FROM _salesops_demo").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()
