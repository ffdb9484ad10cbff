"""Territories and lead distribution: who holds which accounts and leads, how fairly leads are split,
and which accounts to move to even it out.

A lead is a deal created in the lookback window. A rep's fair share of leads follows capacity (a
`capacity` column of the reps table, else 1 per rep) times tenure (full from 12 months on, pro rata
before). An account's owner is the `owner` of the accounts table when present, else every rep who
worked a deal of it in the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frames
from ._frames import LOST, WON

COLUMNS = [
    "level",
    "name",
    "region",
    "accounts",
    "leads",
    "open_deals",
    "open_pipeline",
    "won_revenue",
    "win_rate",
    "tenure_months",
    "capacity",
    "fair_leads",
    "lead_ratio",
]
FULL_TENURE_MONTHS = 12
REBALANCE_TOLERANCE = 0.2  # a rep more than 20% above or below the fair share is rebalanced


def gini(values) -> float:
    """Gini coefficient of non-negative values (0: all equal, towards 1: one holds everything).

    Args:
        values: The values (e.g. leads per rep).

    Returns:
        The Gini coefficient, NaN without values or with a zero total.

    Example:
        >>> round(gini([1, 1, 1, 1]), 3), round(gini([0, 0, 0, 4]), 3)
        (0.0, 0.75)
    """
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


def top_decile_share(values) -> float:
    """Share of the total held by the top tenth of holders (at least one).

    Args:
        values: The values (e.g. leads per rep).

    Returns:
        The share, NaN with a zero total.

    Example:
        >>> top_decile_share([1] * 9 + [11])
        0.55
    """
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    total = x.sum()
    if len(x) == 0 or total <= 0:
        return float("nan")
    k = max(1, int(np.ceil(len(x) / 10)))
    return float(x[:k].sum() / total)


def _window(opps: pd.DataFrame, as_of: pd.Timestamp, lookback_months: int) -> pd.Series:
    return opps["created_date"].between(
        as_of - pd.DateOffset(months=lookback_months), as_of, inclusive="right"
    )


def territories(
    opportunities: pd.DataFrame,
    reps: pd.DataFrame | None,
    pipeline: pd.DataFrame,
    as_of: pd.Timestamp,
    lookback_months: int = 12,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per rep and per region: accounts, leads received, open pipeline, won revenue and win rate, with
    the fair share of leads by capacity and tenure.

    Over the `lookback_months` to `as_of`: `leads` (deals created), `won_revenue` and `win_rate` (deals
    closed: won / closed). `accounts`: accounts owned (accounts table `owner`) or worked (a deal in
    the window). `open_deals, open_pipeline`: deals open at the period's start and their expected
    amount (`pipeline`). `fair_leads`: the leads in the rep's region split by capacity x tenure;
    `lead_ratio = leads / fair_leads`.

    Args:
        opportunities: The opportunities as they stood at the period's start.
        reps: The reps table (`rep, team, region`, optionally `start_date`, `capacity`).
        pipeline: The open pipeline (`pointintime.pipeline_at`).
        as_of: The day before the period.
        lookback_months: The months counted.
        accounts: The accounts table (`account`, optionally `owner`), or None.

    Returns:
        One row per rep (`level` rep), then per region (`level` region), with `COLUMNS`.
    """
    opps = opportunities
    roster = _frames.reps(reps, opps)
    recent = opps.loc[_window(opps, as_of, lookback_months)]
    closed = opps.loc[
        opps["stage"].isin([WON, LOST])
        & (opps["close_date"] <= as_of)
        & (opps["close_date"] > as_of - pd.DateOffset(months=lookback_months))
    ]
    owners = account_owners(opps, as_of, lookback_months, accounts)
    held = owners.explode("owners").dropna(subset=["owners"]).groupby("owners")["account"].nunique()
    rows = roster.loc[:, ["rep", "region"]].copy()
    rows["accounts"] = rows["rep"].map(held).fillna(0).astype(int)
    rows["leads"] = rows["rep"].map(recent.groupby("rep").size()).fillna(0).astype(int)
    rows["open_deals"] = rows["rep"].map(pipeline.groupby("rep").size()).fillna(0).astype(int)
    rows["open_pipeline"] = rows["rep"].map(pipeline.groupby("rep")["expected_amount"].sum()).fillna(0.0)
    won = closed.loc[closed["stage"] == WON]
    rows["won_revenue"] = rows["rep"].map(won.groupby("rep")["amount"].sum()).fillna(0.0)
    rows["closed"] = rows["rep"].map(closed.groupby("rep").size()).fillna(0)
    rows["won"] = rows["rep"].map(won.groupby("rep").size()).fillna(0)
    rows["win_rate"] = rows["won"] / rows["closed"].where(rows["closed"] > 0)
    if "start_date" in roster.columns:
        tenure = ((as_of - roster["start_date"]).dt.days / 30.4375).clip(lower=0)
        rows["tenure_months"] = tenure.to_numpy()
    else:
        rows["tenure_months"] = np.nan
    capacity = pd.to_numeric(roster["capacity"], errors="coerce") if "capacity" in roster.columns else None
    rows["capacity"] = 1.0 if capacity is None else capacity.fillna(1.0).to_numpy()
    weight = rows["capacity"] * (rows["tenure_months"] / FULL_TENURE_MONTHS).clip(upper=1).fillna(1.0)
    region_leads = rows.groupby("region")["leads"].transform("sum")
    region_weight = weight.groupby(rows["region"]).transform("sum")
    rows["fair_leads"] = region_leads * weight / region_weight.where(region_weight > 0)
    rows["lead_ratio"] = rows["leads"] / rows["fair_leads"].where(rows["fair_leads"] > 0)
    rows = rows.rename(columns={"rep": "name"}).assign(level="rep")
    by_region = (
        rows.groupby("region")
        .agg(
            leads=("leads", "sum"),
            open_deals=("open_deals", "sum"),
            open_pipeline=("open_pipeline", "sum"),
            won_revenue=("won_revenue", "sum"),
            closed=("closed", "sum"),
            won=("won", "sum"),
            capacity=("capacity", "sum"),
            fair_leads=("fair_leads", "sum"),
        )
        .reset_index()
    )
    region_of = roster.set_index("rep")["region"]
    region_accounts = owners.explode("owners").dropna(subset=["owners"])
    region_accounts = region_accounts.assign(region=region_accounts["owners"].map(region_of))
    by_region["accounts"] = by_region["region"].map(region_accounts.groupby("region")["account"].nunique())
    by_region["accounts"] = by_region["accounts"].fillna(0).astype(int)
    by_region["win_rate"] = by_region["won"] / by_region["closed"].where(by_region["closed"] > 0)
    by_region["tenure_months"] = by_region["region"].map(rows.groupby("region")["tenure_months"].mean())
    by_region["lead_ratio"] = by_region["leads"] / by_region["fair_leads"].where(by_region["fair_leads"] > 0)
    by_region = by_region.assign(level="region", name=by_region["region"])
    out = pd.concat([rows, by_region], ignore_index=True)
    for col in (
        "open_pipeline",
        "won_revenue",
        "win_rate",
        "tenure_months",
        "capacity",
        "fair_leads",
        "lead_ratio",
    ):
        out[col] = out[col].astype(float)
    return out.loc[:, COLUMNS]


def account_owners(
    opportunities: pd.DataFrame,
    as_of: pd.Timestamp,
    lookback_months: int = 12,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each account with its owners: the accounts table's `owner` when it has one, else the reps who
    worked a deal of the account created in the lookback window.

    Args:
        opportunities: The opportunities as they stood at the period's start.
        as_of: The day before the period.
        lookback_months: The months counted.
        accounts: The accounts table (`account`, optionally `owner`), or None.

    Returns:
        `account, owners (a list), deals, status` with status `one owner`, `no owner` or `several owners`.
    """
    opps = opportunities
    recent = opps.loc[
        _window(opps, as_of, lookback_months) & opps.get("account", pd.Series(index=opps.index)).notna()
    ]
    names = set(recent["account"].dropna()) if "account" in recent.columns else set()
    if accounts is not None and "account" in accounts.columns:
        names |= set(accounts["account"].dropna())
    worked = (
        recent.groupby("account")["rep"].agg(lambda s: sorted(set(s)))
        if len(recent)
        else pd.Series(dtype=object)
    )
    deals = recent.groupby("account").size() if len(recent) else pd.Series(dtype=int)
    owned = None
    if accounts is not None and "owner" in accounts.columns:
        owned = accounts.dropna(subset=["owner"]).groupby("account")["owner"].agg(lambda s: sorted(set(s)))
    rows = []
    for name in sorted(names):
        owners = owned.get(name) if owned is not None and name in owned.index else worked.get(name, [])
        owners = list(owners) if isinstance(owners, list) else []
        status = "no owner" if not owners else "one owner" if len(owners) == 1 else "several owners"
        rows.append({"account": name, "owners": owners, "deals": int(deals.get(name, 0)), "status": status})
    return pd.DataFrame(rows, columns=["account", "owners", "deals", "status"])


def concentration(table: pd.DataFrame) -> pd.DataFrame:
    """How concentrated leads, pipeline and won revenue are across reps, and how fair leads follow
    capacity and tenure.

    Args:
        table: The `territories` table.

    Returns:
        `measure, gini, top_decile_share, reps` per measure, plus the row `fairness` whose `gini` is the
        mean absolute gap between a rep's leads and fair share, as a share of the leads.
    """
    reps = table.loc[table["level"] == "rep"]
    rows = [
        {
            "measure": col,
            "gini": gini(reps[col]),
            "top_decile_share": top_decile_share(reps[col]),
            "reps": len(reps),
        }
        for col in ("leads", "open_pipeline", "won_revenue", "accounts")
    ]
    total = reps["leads"].sum()
    gap = (reps["leads"] - reps["fair_leads"]).abs().sum() / 2 / total if total else np.nan
    rows.append(
        {"measure": "leads off fair share", "gini": gap, "top_decile_share": np.nan, "reps": len(reps)}
    )
    return pd.DataFrame(rows)


def rebalancing(
    table: pd.DataFrame,
    opportunities: pd.DataFrame,
    as_of: pd.Timestamp,
    lookback_months: int = 12,
    tolerance: float = REBALANCE_TOLERANCE,
) -> pd.DataFrame:
    """Suggested moves: accounts from reps above their fair share of leads to reps below it, in the same
    region, smallest accounts first, until the giver is within `tolerance` of the fair share.

    The expected effect of a move is its leads x (receiver's win rate - giver's win rate) x the giver's
    average won deal on those accounts: positive when the receiver converts better.

    Args:
        table: The `territories` table.
        opportunities: The opportunities as they stood at the period's start.
        as_of: The day before the period.
        lookback_months: The months counted.
        tolerance: How far above or below the fair share a rep may be before a move is suggested.

    Returns:
        `account, from_rep, to_rep, region, leads, expected_won_change, gini_before, gini_after`.
    """
    columns = [
        "account",
        "from_rep",
        "to_rep",
        "region",
        "leads",
        "expected_won_change",
        "gini_before",
        "gini_after",
    ]
    reps = table.loc[table["level"] == "rep"].set_index("name")
    if reps.empty or "account" not in opportunities.columns:
        return pd.DataFrame(columns=columns)
    leads = reps["leads"].astype(float).copy()
    before = gini(leads)
    recent = opportunities.loc[
        _window(opportunities, as_of, lookback_months) & opportunities["account"].notna()
    ]
    by_account = recent.groupby(["rep", "account"]).agg(leads=("opportunity_id", "size")).reset_index()
    won = recent.loc[recent["stage"] == WON]
    avg_deal = won.groupby("rep")["amount"].mean()
    overall_deal = won["amount"].mean() if len(won) else 0.0
    moves = []
    for region, group in reps.groupby("region"):
        fair = group["fair_leads"]
        for giver in group.index[(leads[group.index] > fair * (1 + tolerance))]:
            mine = by_account.loc[by_account["rep"] == giver].sort_values("leads")
            for row in mine.itertuples(index=False):
                if leads[giver] - row.leads < fair[giver] * (1 - tolerance) or leads[giver] <= fair[giver] * (
                    1 + tolerance
                ):
                    continue
                room = fair * (1 - tolerance) - leads[group.index]
                room = room.loc[room >= row.leads / 2]
                if room.empty:
                    break
                taker = room.idxmax()
                leads[giver] -= row.leads
                leads[taker] += row.leads
                rate_from, rate_to = reps.at[giver, "win_rate"], reps.at[taker, "win_rate"]
                deal = avg_deal.get(giver, overall_deal)
                change = row.leads * (np.nan_to_num(rate_to) - np.nan_to_num(rate_from)) * np.nan_to_num(deal)
                moves.append(
                    {
                        "account": row.account,
                        "from_rep": giver,
                        "to_rep": taker,
                        "region": region,
                        "leads": int(row.leads),
                        "expected_won_change": float(change),
                    }
                )
    out = pd.DataFrame(moves, columns=columns[:-2])
    out["gini_before"], out["gini_after"] = before, gini(leads)
    return out.loc[:, columns]
