"""Pipeline health: stage win probabilities learned from closed deals, the open pipeline with expected
close dates, funnel, aging, slippage and the pipeline forecast that feeds demand planning.

Win probabilities are learned, never fixed: for each open stage, the share won among the closed deals
that had reached that stage. A CRM export keeps only each deal's last stage, so the stage a lost deal
was lost at comes from an optional `lost_stage` column when present; otherwise lost deals are spread
over the open stages in proportion to the open deals sitting in each (deals drop out where deals are).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frames
from ._frames import LOST, OPEN_STAGES, WON

FALLBACK_DAYS = 30  # expected time to close when no won deal ever took this long
AGE_BUCKETS = (0, 30, 60, 90, 180, np.inf)
AGE_LABELS = ("0-30 days", "31-60 days", "61-90 days", "91-180 days", "over 180 days")


def open_stage_order(opportunities: pd.DataFrame) -> list[str]:
    """Open stages in funnel order: the contract's, then any custom stage in order of appearance.

    Args:
        opportunities: The opportunities table.

    Returns:
        The open stage names, in funnel order.
    """
    seen = [s for s in opportunities["stage"].dropna().unique() if s not in (WON, LOST)]
    return list(OPEN_STAGES) + [s for s in seen if s not in OPEN_STAGES]


def closed_deals(
    opportunities: pd.DataFrame, as_of: pd.Timestamp, lookback_months: int | None = None
) -> pd.DataFrame:
    """Won and lost deals closed on or before `as_of` (and within `lookback_months` months of it).

    Args:
        opportunities: The opportunities table.
        as_of: The last close date counted.
        lookback_months: The months before `as_of` counted (default: all history).

    Returns:
        The rows of the closed deals.
    """
    opps = opportunities
    mask = opps["stage"].isin([WON, LOST]) & opps["close_date"].notna() & (opps["close_date"] <= as_of)
    if lookback_months:
        mask &= opps["close_date"] > as_of - pd.DateOffset(months=lookback_months)
    return opps.loc[mask]


def open_deals(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Deals still open at `as_of` (created on or before it, or with no created date).

    Args:
        opportunities: The opportunities table.
        as_of: The day the deals are open at.

    Returns:
        The rows of the open deals.
    """
    opps = opportunities
    created = opps["created_date"]
    mask = ~opps["stage"].isin([WON, LOST]) & (created.isna() | (created <= as_of))
    return opps.loc[mask]


def stage_probabilities(
    opportunities: pd.DataFrame, as_of: pd.Timestamp, lookback_months: int | None = None
) -> pd.DataFrame:
    """Win probability of an open deal at each stage, learned from the deals closed up to `as_of`.

    Columns: `stage, open_deals, won, lost_at_stage, lost_reached, win_probability, source` where
    `lost_reached` counts lost deals that had reached the stage and
    `win_probability = won / (won + lost_reached)`; `source` is `learned`, `crm` (no closed deals:
    the mean `probability` of the stage's open deals) or `none`.

    Args:
        opportunities: The opportunities table.
        as_of: The last close date learned from.
        lookback_months: The months of closed deals learned from (default: all history).

    Returns:
        One row per open stage in funnel order, with the columns above.

    Example:
        >>> opps = pd.DataFrame({"opportunity_id": ["a", "b", "c", "d"], "rep": "x",
        ...     "stage": ["won", "lost", "proposal", "prospecting"], "amount": 100.0,
        ...     "created_date": pd.Timestamp("2026-01-01"), "close_date": pd.Timestamp("2026-03-01")})
        >>> stage_probabilities(opps, pd.Timestamp("2026-10-31"))["win_probability"].round(2).tolist()
        [0.5, 0.67]
    """
    opps = _frames.opportunities(opportunities)
    stages = open_stage_order(opps)
    closed = closed_deals(opps, as_of, lookback_months)
    open_counts = open_deals(opps, as_of)["stage"].value_counts().reindex(stages, fill_value=0).astype(float)
    won = float((closed["stage"] == WON).sum())
    lost = closed.loc[closed["stage"] == LOST]
    known = pd.Series(0.0, index=stages)
    if "lost_stage" in lost.columns:
        recoded = lost["lost_stage"].astype("string").str.strip().str.lower()
        known = recoded.value_counts().reindex(stages, fill_value=0).astype(float)
    unknown = len(lost) - known.sum()
    share = open_counts / open_counts.sum() if open_counts.sum() else pd.Series(1 / len(stages), index=stages)
    lost_at = known + unknown * share
    lost_reached = lost_at[::-1].cumsum()[::-1]
    denominator = won + lost_reached
    probability = (won / denominator).where(denominator > 0)
    source = pd.Series(np.where(probability.notna(), "learned", "none"), index=stages, dtype=object)
    used = (open_counts > 0) | (known > 0)
    if probability.isna().any() and "probability" in opps.columns:
        crm = open_deals(opps, as_of).groupby("stage")["probability"].mean().reindex(stages)
        fill = probability.isna() & crm.notna()
        probability[fill] = crm[fill]
        source[fill] = "crm"
    out = pd.DataFrame(
        {
            "stage": stages,
            "open_deals": open_counts.to_numpy(),
            "won": won,
            "lost_at_stage": lost_at.to_numpy(),
            "lost_reached": lost_reached.to_numpy(),
            "win_probability": probability.to_numpy(),
            "source": source.to_numpy(),
        }
    )
    return out.loc[used.to_numpy()].reset_index(drop=True)


def _won_cycle_days(closed: pd.DataFrame) -> np.ndarray:
    won = closed.loc[(closed["stage"] == WON) & closed["created_date"].notna()]
    return np.sort((won["close_date"] - won["created_date"]).dt.days.to_numpy(dtype=float))


def _days_to_close(ages: pd.Series, cycles: np.ndarray) -> pd.Series:
    """Median remaining days of won deals that were still open at each age (conditional on survival);
    `FALLBACK_DAYS` when no won deal ever stayed open that long. `cycles` must be sorted."""
    n = len(cycles)
    first = np.searchsorted(cycles, ages.to_numpy(dtype=float), side="right")
    tail = n - first
    safe = np.minimum(first + (tail - 1) // 2, n - 1), np.minimum(first + tail // 2, n - 1)
    if n == 0:
        return pd.Series(float(FALLBACK_DAYS), index=ages.index)
    median = (cycles[safe[0]] + cycles[safe[1]]) / 2 - ages.to_numpy(dtype=float)
    days = np.where(tail > 0, np.maximum(median, 1.0), FALLBACK_DAYS)
    return pd.Series(days, index=ages.index)


def impute_amounts(open_: pd.DataFrame, closed: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Deal amounts, with missing ones set to the mean won amount of the same SKU (else of all won deals).

    Args:
        open_: The open deals (`sku, amount`).
        closed: The closed deals (`stage, sku, amount`).

    Returns:
        `(amounts, imputed)`: the amounts with the missing ones filled, and which were filled.
    """
    won = closed.loc[closed["stage"] == WON]
    by_sku = won.groupby("sku")["amount"].mean()
    overall = won["amount"].mean() if len(won) else np.nan
    missing = open_["amount"].isna()
    guess = open_["sku"].map(by_sku).astype(float).fillna(overall)
    return open_["amount"].where(~missing, guess), missing


def open_pipeline(
    opportunities: pd.DataFrame,
    as_of: pd.Timestamp,
    probabilities: pd.DataFrame,
    lookback_months: int | None = None,
) -> pd.DataFrame:
    """One row per open deal: its age, expected amount and close month, and whether it slipped or is stale.

    `expected_close` is the deal's close date when it lies after `as_of`; otherwise `as_of` plus the
    median remaining time of won deals that were still open at the deal's age. `slipped`: the close
    date is before `as_of` (or later than an `original_close_date`, when the CRM keeps one) and the deal
    is still open. `stale`: older than 90% of won deals' cycles. `expected_amount = amount x win_probability`.

    Args:
        opportunities: The opportunities table.
        as_of: The day the pipeline is measured at.
        probabilities: The win probability of each stage (`stage_probabilities`).
        lookback_months: The months of won deals the close-time and staleness statistics use.

    Returns:
        One row per open deal: its own columns plus `age_days, win_probability, expected_amount,
        expected_close, ds, slipped, stale`.

    Example:
        >>> pipe = open_pipeline(opps, pd.Timestamp("2026-10-31"), stage_probabilities(opps, as_of))  # doctest: +SKIP
    """
    opps = _frames.opportunities(opportunities)
    closed = closed_deals(opps, as_of, lookback_months)
    out = open_deals(opps, as_of).copy()
    cycles = _won_cycle_days(closed)
    out["age_days"] = (as_of - out["created_date"]).dt.days.astype(float)
    known_future = out["close_date"].notna() & (out["close_date"] > as_of)
    days = _days_to_close(out["age_days"].fillna(0.0), cycles)
    out["expected_close"] = out["close_date"].where(
        known_future, as_of + pd.to_timedelta(days.round(), unit="D")
    )
    out["ds"] = _frames.month_start(out["expected_close"])
    out["amount"], out["amount_imputed"] = impute_amounts(out, closed)
    probability = probabilities.set_index("stage")["win_probability"]
    out["win_probability"] = out["stage"].map(probability).astype(float).fillna(0.0)
    out["expected_amount"] = out["amount"].fillna(0.0) * out["win_probability"]
    slipped = out["close_date"].notna() & (out["close_date"] <= as_of)
    if "original_close_date" in out.columns:
        original = pd.to_datetime(out["original_close_date"])
        slipped |= original.notna() & out["close_date"].notna() & (out["close_date"] > original)
    out["slipped"] = slipped
    limit = float(np.quantile(cycles, 0.9)) if len(cycles) else np.inf
    out["stale"] = out["age_days"] > limit
    return out.reset_index(drop=True)


def pipeline_forecast(pipeline: pd.DataFrame, products: pd.DataFrame | None) -> pd.DataFrame:
    """Expected won amount and units by expected close month and SKU: the product demand planning reads.

    Columns `ds, sku, family, units, amount`; `units = amount / unit_price` of the SKU, null when
    the deal names no SKU or the SKU has no price (sku and family may be null).

    Args:
        pipeline: The open pipeline (`open_pipeline`).
        products: The products table (`sku, family, unit_price`), or None.

    Returns:
        One row per close month, SKU and family: `ds, sku, family, units, amount`.

    Example:
        >>> pipeline_forecast(open_pipeline(opps, as_of, probs), products_table)  # doctest: +SKIP
    """
    items = _frames.products(products)
    frame = pipeline.loc[:, ["ds", "sku", "expected_amount"]].merge(items, on="sku", how="left")
    price = frame["unit_price"].where(frame["unit_price"] > 0)
    frame["units"] = frame["expected_amount"] / price
    frame = frame.rename(columns={"expected_amount": "amount"})
    out = (
        frame.groupby(["ds", "sku", "family"], dropna=False)[["units", "amount"]]
        .sum(min_count=1)
        .reset_index()
        .sort_values(["ds", "sku"], na_position="last")
    )
    out["amount"] = out["amount"].fillna(0.0)
    return out.loc[:, ["ds", "sku", "family", "units", "amount"]].reset_index(drop=True)


def funnel(
    opportunities: pd.DataFrame,
    as_of: pd.Timestamp,
    probabilities: pd.DataFrame,
    lookback_months: int | None = None,
    pipeline: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Stage funnel: deals now at each stage, deals that reached it, conversion to the next stage.

    Columns `stage, opportunities, amount, reached, conversion_to_next, win_probability`. `reached`
    counts won deals, plus open and lost deals at this stage or later; `conversion_to_next` is
    reached(next stage) / reached(this stage), the last open stage converting into `won`. With the
    `pipeline` (from `open_pipeline`) open amounts include the imputed ones.

    Args:
        opportunities: The opportunities table.
        as_of: The day the funnel is measured at.
        probabilities: The win probability of each stage (`stage_probabilities`).
        lookback_months: The months of closed deals counted (default: all history).
        pipeline: The open pipeline (`open_pipeline`), for imputed amounts.

    Returns:
        One row per open stage in funnel order, then `won` and `lost`, with the columns above.

    Example:
        >>> funnel(opps, as_of, stage_probabilities(opps, as_of))  # doctest: +SKIP
    """
    opps = _frames.opportunities(opportunities)
    if opps.empty:
        return pd.DataFrame(
            columns=["stage", "opportunities", "amount", "reached", "conversion_to_next", "win_probability"]
        )
    closed = closed_deals(opps, as_of, lookback_months)
    open_ = open_deals(opps, as_of)
    scope = pd.concat([open_, closed])
    probs = probabilities.set_index("stage")
    stages = list(probs.index)
    counts = scope["stage"].value_counts()
    amounts = scope.groupby("stage")["amount"].sum()
    if pipeline is not None:
        amounts = pd.concat(
            [closed.groupby("stage")["amount"].sum(), pipeline.groupby("stage")["amount"].sum()]
        )
    won = float(counts.get(WON, 0))
    later = (probs["open_deals"] + probs["lost_at_stage"])[::-1].cumsum()[::-1]
    reached = pd.concat([won + later, pd.Series({WON: won, LOST: float(counts.get(LOST, 0))})])
    order = stages + [WON, LOST]
    next_reached = reached.reindex(order[1 : len(stages) + 1]).to_numpy()
    conversion = np.full(len(order), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        conversion[: len(stages)] = next_reached / reached.reindex(stages).to_numpy()
    out = pd.DataFrame(
        {
            "stage": order,
            "opportunities": [int(counts.get(s, 0)) for s in order],
            "amount": [float(amounts.get(s, 0.0)) for s in order],
            "reached": reached.reindex(order).to_numpy(),
            "conversion_to_next": conversion,
            "win_probability": list(probs["win_probability"]) + [1.0, 0.0],
        }
    )
    out["conversion_to_next"] = out["conversion_to_next"].where(np.isfinite(out["conversion_to_next"]))
    return out


def aging(pipeline: pd.DataFrame) -> pd.DataFrame:
    """Open deals by age bucket: `age, deals, amount, expected_amount, stale` (deals with no created date
    are counted as `unknown`).

    Args:
        pipeline: The open pipeline (`open_pipeline`).

    Returns:
        One row per age bucket, youngest first, then `unknown`.
    """
    bucket = pd.cut(pipeline["age_days"], AGE_BUCKETS, labels=AGE_LABELS, include_lowest=True)
    bucket = bucket.astype("string").fillna("unknown")
    out = (
        pipeline.assign(age=bucket)
        .groupby("age", sort=False)
        .agg(
            deals=("opportunity_id", "size"),
            amount=("amount", "sum"),
            expected_amount=("expected_amount", "sum"),
            stale=("stale", "sum"),
        )
        .reset_index()
    )
    order = {label: i for i, label in enumerate(AGE_LABELS + ("unknown",))}
    return out.sort_values("age", key=lambda s: s.map(order)).reset_index(drop=True)


def slippage(pipeline: pd.DataFrame) -> pd.DataFrame:
    """Open deals whose close date has passed (or was pushed), oldest close date first.

    Args:
        pipeline: The open pipeline (`open_pipeline`).

    Returns:
        `opportunity_id, rep, stage, amount, close_date, age_days, expected_close` (and
        `original_close_date` when the CRM keeps one) of the slipped deals.
    """
    columns = ["opportunity_id", "rep", "stage", "amount", "close_date", "age_days", "expected_close"]
    if "original_close_date" in pipeline.columns:
        columns.insert(4, "original_close_date")
    return pipeline.loc[pipeline["slipped"], columns].sort_values("close_date").reset_index(drop=True)


def velocity(open_deals: float, win_rate: float, average_deal: float, cycle_days: float) -> float:
    """Sales velocity in amount per day: open deals x win rate x average deal / cycle length in days.

    Args:
        open_deals: The number of open deals.
        win_rate: The win rate, a fraction.
        average_deal: The average won deal amount.
        cycle_days: The average sales cycle in days.

    Returns:
        The expected won amount per day (NaN without a cycle length).

    Example:
        >>> velocity(40, 0.25, 1000.0, 50.0)
        200.0
    """
    if not cycle_days or np.isnan(cycle_days):
        return float("nan")
    return float(open_deals * win_rate * average_deal / cycle_days)
