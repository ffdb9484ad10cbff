"""The CRM as it stood at a period's start: open deals then, stage probabilities learned honestly, age
decay, learned close dates, and a backtest of what the pipeline expected against what was won.

A CRM export keeps each deal's current state only. For a past period, a deal was open at the period's
start when it was created (or engaged) before it and not closed before it; its stage then comes from
the optional `opportunity_history` table (stage changes with dates) when present, otherwise it is
inferred from the deal's age: the youngest age at which deals still open in the export sit at each
stage. Deals without a created date count only in the latest period (the one after the export's last
date), since nobody knows when they were open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frames
from ._frames import LOST, OPEN_STAGES, WON

CALIBRATION_MONTHS = 6
PIPELINE_COLUMNS = [
    "opportunity_id",
    "rep",
    "stage",
    "amount",
    "created_date",
    "expected_close",
    "age_days",
    "probability",
    "expected_amount",
]


def latest_start(opportunities: pd.DataFrame) -> pd.Timestamp | None:
    """The first day of the month after the export's last date: the period undated deals belong to.

    Args:
        opportunities: The opportunities table (normalised: Timestamps, lower-case stages).

    Returns:
        The first day of the latest period, or None for an export without any date.

    Example:
        >>> opps = pd.DataFrame({"stage": ["won", "proposal"], "created_date": pd.to_datetime(["2026-01-03", "2026-02-10"]),
        ...                      "close_date": pd.to_datetime(["2026-03-05", "2026-09-30"])})
        >>> latest_start(opps)
        Timestamp('2026-04-01 00:00:00')
    """
    closed = opportunities["stage"].isin([WON, LOST])
    dates = pd.concat([opportunities["created_date"], opportunities.loc[closed, "close_date"]]).dropna()
    if dates.empty:
        return None
    return (dates.max() + pd.offsets.MonthBegin(1)).normalize()


def open_stages(opportunities: pd.DataFrame) -> list[str]:
    """Open stages in funnel order: the contract's, then custom ones in order of appearance.

    Args:
        opportunities: The opportunities table (normalised).

    Returns:
        The open stage names, in funnel order.
    """
    seen = [s for s in opportunities["stage"].dropna().unique() if s not in (WON, LOST)]
    return list(OPEN_STAGES) + [s for s in seen if s not in OPEN_STAGES]


def stage_bands(opportunities: pd.DataFrame) -> pd.Series:
    """The youngest age (days) at which deals still open in the export sit at each open stage.

    Without a stage history, the stage a deal held on an earlier day is the furthest stage whose
    youngest open deal is no older than the deal was then.

    Args:
        opportunities: The opportunities table (normalised).

    Returns:
        Minimum age in days by stage, in funnel order (stages without a dated open deal left out).
    """
    end = latest_start(opportunities)
    is_open = ~opportunities["stage"].isin([WON, LOST]) & opportunities["created_date"].notna()
    if end is None or not is_open.any():
        return pd.Series(dtype=float)
    ages = (end - opportunities.loc[is_open, "created_date"]).dt.days
    bands = ages.groupby(opportunities.loc[is_open, "stage"]).min()
    order = [s for s in open_stages(opportunities) if s in bands.index]
    return bands.reindex(order).astype(float)


def infer_stage(ages: pd.Series, bands: pd.Series, default: str = OPEN_STAGES[-1]) -> pd.Series:
    """The stage a deal held at each age, from `stage_bands`: the furthest stage its age had reached.

    Args:
        ages: Ages in days (NaN: unknown).
        bands: The youngest age of each stage (`stage_bands`), in funnel order.
        default: The stage when no band is known.

    Returns:
        One stage per age, aligned with `ages` (the first band's stage when the age is unknown or younger).

    Example:
        >>> bands = pd.Series({"prospecting": 0.0, "qualified": 20.0, "proposal": 45.0})
        >>> infer_stage(pd.Series([3.0, 30.0, 90.0]), bands).tolist()
        ['prospecting', 'qualified', 'proposal']
    """
    if bands.empty:
        return pd.Series(default, index=ages.index, dtype=object)
    out = pd.Series(bands.index[0], index=ages.index, dtype=object)
    running = -np.inf
    for stage, start in bands.items():
        running = max(running, start)  # a later stage never starts younger than an earlier one
        out[ages.to_numpy(dtype=float) >= running] = stage
    return out


def _normal_history(history: pd.DataFrame | None) -> pd.DataFrame | None:
    if history is None or history.empty or not {"opportunity_id", "stage", "date"} <= set(history.columns):
        return None
    out = history.loc[:, ["opportunity_id", "stage", "date"]].copy()
    out["stage"] = out["stage"].astype("string").str.strip().str.lower()
    out["date"] = pd.to_datetime(out["date"])
    return out.dropna(subset=["date"]).sort_values(["opportunity_id", "date"], kind="stable")


def history_stage_at(history: pd.DataFrame | None, start: pd.Timestamp) -> pd.Series:
    """The stage each deal held at `start` by the stage history: its last change dated before `start`.

    Args:
        history: The `opportunity_history` table (`opportunity_id, stage, date`), or None.
        start: The day the stage is wanted at.

    Returns:
        The stage by `opportunity_id` (deals without a change before `start` left out).
    """
    hist = _normal_history(history)
    if hist is None:
        return pd.Series(dtype=object)
    before = hist.loc[hist["date"] < start]
    return before.groupby("opportunity_id")["stage"].last()


def furthest_stage(opportunities: pd.DataFrame, history: pd.DataFrame | None, bands: pd.Series) -> pd.Series:
    """The furthest open stage each deal is known to have reached.

    From the stage history when present, else a `lost_stage` column, else the stage its age at close
    (or now, for open deals) implies (`infer_stage`). Won deals reached every open stage.

    Args:
        opportunities: The opportunities table (normalised).
        history: The `opportunity_history` table, or None.
        bands: The stage bands (`stage_bands`).

    Returns:
        The furthest open stage by row of `opportunities`.
    """
    stages = open_stages(opportunities)
    rank = {s: i for i, s in enumerate(stages)}
    end = latest_start(opportunities)
    close = opportunities["close_date"].where(opportunities["stage"].isin([WON, LOST]), end)
    ages = (close - opportunities["created_date"]).dt.days.astype(float)
    out = infer_stage(ages, bands)
    is_open = ~opportunities["stage"].isin([WON, LOST])
    out[is_open] = opportunities.loc[is_open, "stage"]
    if "lost_stage" in opportunities.columns:
        known = opportunities["lost_stage"].astype("string").str.strip().str.lower()
        use = known.isin(stages) & (opportunities["stage"] == LOST)
        out[use] = known[use]
    hist = _normal_history(history)
    if hist is not None:
        reached = hist.loc[hist["stage"].isin(stages)].assign(rank=lambda f: f["stage"].map(rank))
        top = reached.groupby("opportunity_id")["rank"].max().map(lambda i: stages[int(i)])
        mapped = opportunities["opportunity_id"].map(top)
        out = mapped.where(mapped.notna(), out)
    out[opportunities["stage"] == WON] = stages[-1]
    return out


def amounts_known_while_open(opportunities: pd.DataFrame) -> bool:
    """Whether the export keeps amounts of open deals (most open deals have one).

    Some exports (crm-maven) fill the value only when a deal closes, lost deals at 0: there the
    amount of a deal that closed later was unknown at an earlier start and is imputed instead.

    Args:
        opportunities: The opportunities table (normalised).

    Returns:
        True when more than half of the open deals have an amount.
    """
    is_open = ~opportunities["stage"].isin([WON, LOST])
    return bool(is_open.any() and opportunities.loc[is_open, "amount"].notna().mean() > 0.5)


def as_of_start(
    opportunities: pd.DataFrame,
    start: pd.Timestamp,
    history: pd.DataFrame | None = None,
    bands: pd.Series | None = None,
) -> tuple[pd.DataFrame, int]:
    """The opportunities table as it stood on the morning of `start`.

    Deals created on or after `start` are left out. Deals closed before `start` keep their outcome.
    Deals open at `start` (created before it and not closed before it) are open: their stage is the
    one they held then (history, else `infer_stage`), their close date unknown unless still open in
    the export, their CRM probability dropped, and their amount unknown when the export keeps no amounts
    for open deals. Deals without a created date are kept only when `start` is the latest period.

    Args:
        opportunities: The opportunities table (normalised).
        start: The first day of the period.
        history: The `opportunity_history` table, or None.
        bands: The stage bands (`stage_bands`); computed when None.

    Returns:
        `(view, left_out)`: the table as it stood, and how many undated deals were left out.

    Example:
        >>> view, left_out = as_of_start(opps, pd.Timestamp("2017-07-01"))  # doctest: +SKIP
    """
    opps = opportunities
    bands = stage_bands(opps) if bands is None else bands
    latest = latest_start(opps)
    is_latest = latest is None or start >= latest
    closed = opps["stage"].isin([WON, LOST])
    undated = opps["created_date"].isna()
    keep = (opps["created_date"] < start) | (undated & is_latest)
    left_out = int((undated & ~is_latest).sum())
    view = opps.loc[keep].copy()
    if "account" in view.columns:  # an empty account is no account
        view["account"] = view["account"].where(view["account"].astype("string").str.strip() != "")
    closed_later = view["stage"].isin([WON, LOST]) & ~(view["close_date"] < start)
    if closed_later.any():
        age = (start - view.loc[closed_later, "created_date"]).dt.days.astype(float)
        stage = infer_stage(age, bands)
        at = history_stage_at(history, start)
        from_history = view.loc[closed_later, "opportunity_id"].map(at)
        stage = from_history.where(from_history.notna() & ~from_history.isin([WON, LOST]), stage)
        view.loc[closed_later, "stage"] = stage
        view.loc[closed_later, "close_date"] = pd.NaT
        if "probability" in view.columns:
            view.loc[closed_later, "probability"] = np.nan
        if not amounts_known_while_open(opps):
            view.loc[closed_later, "amount"] = np.nan
    still_open = ~view["stage"].isin([WON, LOST]) & ~closed_later
    if still_open.any() and history is not None:
        at = history_stage_at(history, start)
        from_history = view.loc[still_open, "opportunity_id"].map(at)
        view.loc[still_open, "stage"] = from_history.where(
            from_history.notna() & ~from_history.isin([WON, LOST]), view.loc[still_open, "stage"]
        )
    _ = closed  # the outcome of deals closed before `start` is kept as exported
    return view.reset_index(drop=True), left_out


def learned_probabilities(
    opportunities: pd.DataFrame,
    as_of: pd.Timestamp,
    lookback_months: int | None = None,
    history: pd.DataFrame | None = None,
    bands: pd.Series | None = None,
) -> pd.DataFrame:
    """Win probability at each open stage: won / (won + lost that had reached the stage).

    Learned from deals closed within `lookback_months` up to `as_of`, by the furthest stage each deal
    is known to have reached (`furthest_stage`); won deals reached every stage.

    Args:
        opportunities: The full opportunities table (normalised), for what each deal reached.
        as_of: The last close date learned from.
        lookback_months: The months of closed deals learned from (default: all history).
        history: The `opportunity_history` table, or None.
        bands: The stage bands (`stage_bands`); computed when None.

    Returns:
        `stage, won, lost_reached, win_probability, source` (`history`, `lost_stage` or `age`) per
        open stage in funnel order.

    Example:
        >>> learned_probabilities(opps, pd.Timestamp("2017-12-31"))  # doctest: +SKIP
    """
    opps = opportunities
    bands = stage_bands(opps) if bands is None else bands
    stages = open_stages(opps)
    mask = opps["stage"].isin([WON, LOST]) & (opps["close_date"] <= as_of)
    if lookback_months:
        mask &= opps["close_date"] > as_of - pd.DateOffset(months=lookback_months)
    closed = opps.loc[mask]
    reached = furthest_stage(closed, history, bands).map({s: i for i, s in enumerate(stages)})
    won = float((closed["stage"] == WON).sum())
    lost_rank = reached[closed["stage"] == LOST]
    lost_reached = np.array([float((lost_rank >= i).sum()) for i in range(len(stages))])
    denominator = won + lost_reached
    with np.errstate(divide="ignore", invalid="ignore"):
        probability = np.where(denominator > 0, won / denominator, np.nan)
    source = (
        "history"
        if _normal_history(history) is not None
        else "lost_stage"
        if "lost_stage" in opps.columns
        else "age"
    )
    return pd.DataFrame(
        {
            "stage": stages,
            "won": won,
            "lost_reached": lost_reached,
            "win_probability": probability,
            "source": source,
        }
    )


def _cycles(opps: pd.DataFrame, as_of: pd.Timestamp, lookback_months: int | None, stage: str) -> np.ndarray:
    mask = (opps["stage"] == stage) & (opps["close_date"] <= as_of) & opps["created_date"].notna()
    if lookback_months:
        mask &= opps["close_date"] > as_of - pd.DateOffset(months=lookback_months)
    days = (opps.loc[mask, "close_date"] - opps.loc[mask, "created_date"]).dt.days
    return np.sort(days.to_numpy(dtype=float))


def decayed(probability: np.ndarray, ages: np.ndarray, won_cycles: np.ndarray) -> np.ndarray:
    """Win probability of a deal still open at its age: the stage probability times the share of won
    deals that were still open at that age (the won-cycle survival curve).

    A deal older than every won cycle decays to 0; a fresh deal keeps the stage probability. Unknown
    ages keep it too.

    Args:
        probability: The stage win probabilities.
        ages: The deals' ages in days (NaN: unknown).
        won_cycles: Won deals' cycle lengths in days, sorted.

    Returns:
        The decayed probabilities.

    Example:
        >>> decayed(np.array([0.6, 0.6, 0.6]), np.array([0.0, 15.0, 40.0]), np.array([10.0, 20.0, 30.0])).round(2).tolist()
        [0.6, 0.4, 0.0]
    """
    p = np.asarray(probability, dtype=float)
    a = np.asarray(ages, dtype=float)
    if len(won_cycles) == 0:
        return p
    share = (len(won_cycles) - np.searchsorted(won_cycles, np.nan_to_num(a), side="right")) / len(won_cycles)
    return np.where(np.isnan(a), p, p * share)


def remaining_days(ages: np.ndarray, won_cycles: np.ndarray) -> np.ndarray:
    """Median days still to go for a deal open at each age, from the won cycle distribution.

    Among won cycles longer than the age, the median of (cycle - age); for a deal older than every
    won cycle, the median overshoot of the longest tenth of won cycles beyond their 90th percentile.

    Args:
        ages: Ages in days (NaN: unknown, treated as 0).
        won_cycles: Won deals' cycle lengths, sorted.

    Returns:
        Days to close, at least 1.

    Example:
        >>> remaining_days(np.array([0.0, 15.0]), np.array([10.0, 20.0, 30.0])).tolist()
        [20.0, 10.0]
    """
    a = np.nan_to_num(np.asarray(ages, dtype=float))
    cycles = np.asarray(won_cycles, dtype=float)
    if len(cycles) == 0:
        return np.full(len(a), np.nan)
    q90 = np.quantile(cycles, 0.9)
    tail = cycles[cycles > q90] - q90
    overshoot = float(np.median(tail)) if len(tail) else max(float(np.median(cycles)), 1.0)
    out = np.empty(len(a))
    for i, age in enumerate(a):
        longer = cycles[cycles > age]
        out[i] = np.median(longer - age) if len(longer) else overshoot
    return np.maximum(out, 1.0)


def closing_within(ages: np.ndarray, won_cycles: np.ndarray, days: int) -> np.ndarray:
    """Chance that a won deal open at each age closes within the next `days` days: among won cycles
    longer than the age, the share ending within `days` (1 when no won cycle is that long).

    Args:
        ages: Ages in days (NaN: unknown, treated as 0).
        won_cycles: Won deals' cycle lengths in days, sorted.
        days: The window in days.

    Returns:
        The share per age.

    Example:
        >>> closing_within(np.array([0.0, 25.0]), np.array([10.0, 20.0, 30.0, 40.0]), 10).tolist()
        [0.25, 0.5]
    """
    a = np.nan_to_num(np.asarray(ages, dtype=float))
    cycles = np.asarray(won_cycles, dtype=float)
    if len(cycles) == 0:
        return np.ones(len(a))
    longer = len(cycles) - np.searchsorted(cycles, a, side="right")
    within = np.searchsorted(cycles, a + days, side="right") - np.searchsorted(cycles, a, side="right")
    return np.where(longer > 0, within / np.maximum(longer, 1), 1.0)


def pipeline_at(
    view: pd.DataFrame,
    start: pd.Timestamp,
    probabilities: pd.DataFrame,
    opportunities: pd.DataFrame,
    lookback_months: int | None = None,
    scores: pd.Series | None = None,
) -> pd.DataFrame:
    """The deals open at `start` (from `as_of_start`) with age, decayed probability and expected close.

    `probability` is the stage's learned win probability decayed by age (`decayed`), or the win
    model's score when `scores` (by `opportunity_id`) is given. `expected_close` is the CRM close date
    when it lies on or after `start`, else `start` plus the learned remaining days (`remaining_days`).
    Missing amounts are the mean won amount of the SKU (else of all won deals) closed before `start`.

    Args:
        view: The opportunities as they stood at `start` (`as_of_start`).
        start: The first day of the period.
        probabilities: Stage win probabilities (`learned_probabilities`).
        opportunities: The full opportunities table, for the won and lost cycles.
        lookback_months: The months of closed deals the cycles come from.
        scores: Win-model probabilities by `opportunity_id` (None: stage and age).

    Returns:
        The `PIPELINE_COLUMNS` plus `sku, close_date, win_probability, stage_probability, amount_imputed,
        ds, slipped, stale` (and the deal's other columns).
    """
    as_of = start - pd.Timedelta(days=1)
    out = view.loc[~view["stage"].isin([WON, LOST])].copy()
    won_cycles = _cycles(opportunities, as_of, lookback_months, WON)
    out["age_days"] = (as_of - out["created_date"]).dt.days.astype(float)
    stage_p = out["stage"].map(probabilities.set_index("stage")["win_probability"]).astype(float)
    out["stage_probability"] = stage_p.fillna(0.0)
    probability = decayed(out["stage_probability"].to_numpy(), out["age_days"].to_numpy(), won_cycles)
    if scores is not None:
        scored = out["opportunity_id"].map(scores).astype(float)
        probability = np.where(scored.notna(), scored, probability)
    out["probability"] = probability
    out["win_probability"] = out["probability"]
    days = remaining_days(out["age_days"].to_numpy(), won_cycles)
    fallback = start + pd.to_timedelta(np.nan_to_num(np.round(days), nan=0.0), unit="D")
    future = out["close_date"].notna() & (out["close_date"] >= start)
    out["expected_close"] = out["close_date"].where(future, pd.Series(fallback, index=out.index))
    won = opportunities.loc[(opportunities["stage"] == WON) & (opportunities["close_date"] <= as_of)]
    by_sku = won.groupby("sku")["amount"].mean()
    overall = won["amount"].mean() if len(won) else np.nan
    out["amount_imputed"] = out["amount"].isna()
    guess = out["sku"].map(by_sku).astype(float).fillna(overall)
    out["amount"] = out["amount"].where(~out["amount_imputed"], guess)
    out["expected_amount"] = out["amount"].fillna(0.0) * out["probability"]
    out["ds"] = _frames.month_start(out["expected_close"])
    out["slipped"] = out["close_date"].notna() & (out["close_date"] < start)
    limit = float(np.quantile(won_cycles, 0.9)) if len(won_cycles) else np.inf
    out["stale"] = out["age_days"] > limit
    first = [c for c in PIPELINE_COLUMNS if c in out.columns]
    return out.loc[:, first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def calibration(
    opportunities: pd.DataFrame,
    start: pd.Timestamp,
    lookback_months: int | None = None,
    history: pd.DataFrame | None = None,
    months: int = CALIBRATION_MONTHS,
) -> pd.DataFrame:
    """Backtest of the pipeline forecast over the `months` months before `start`.

    For each month, the pipeline as it stood at the month's start (probabilities learned from what had
    closed by then) expected `expected` to be won in that month: each deal's expected amount times the
    chance it closes within the month (its CRM close date, else `closing_within`); `won` is
    what those deals really won in the month, `won_all` every deal won in the month.

    Args:
        opportunities: The full opportunities table (normalised).
        start: The first day of the period; the months before it are backtested.
        lookback_months: The months of closed deals each month's probabilities learn from.
        history: The `opportunity_history` table, or None.
        months: How many months.

    Returns:
        `month, open_deals, expected, won, won_all, ratio` (ratio = won / expected), oldest first;
        months before the first dated deal are left out.
    """
    opps = opportunities
    bands = stage_bands(opps)
    first = opps["created_date"].min()
    rows = []
    for k in range(months, 0, -1):
        month = start - pd.DateOffset(months=k)
        if pd.isna(first) or month <= first:
            continue
        view, _ = as_of_start(opps, month, history, bands)
        probs = learned_probabilities(opps, month - pd.Timedelta(days=1), lookback_months, history, bands)
        pipe = pipeline_at(view, month, probs, opps, lookback_months)
        end = month + pd.offsets.MonthEnd(0)
        cycles = _cycles(opps, month - pd.Timedelta(days=1), lookback_months, WON)
        share = closing_within(pipe["age_days"].to_numpy(), cycles, (end - month).days + 1)
        dated = pipe["close_date"].notna() & (pipe["close_date"] >= month)
        share = np.where(dated, (pipe["close_date"] <= end).to_numpy(float), share)
        expected = float((pipe["expected_amount"] * share).sum())
        won = opps.loc[(opps["stage"] == WON) & opps["close_date"].between(month, end)]
        from_pipe = won.loc[won["opportunity_id"].isin(pipe["opportunity_id"])]
        rows.append(
            {
                "month": month,
                "open_deals": len(pipe),
                "expected": expected,
                "won": float(from_pipe["amount"].sum()),
                "won_all": float(won["amount"].sum()),
            }
        )
    out = pd.DataFrame(rows, columns=["month", "open_deals", "expected", "won", "won_all"])
    out["ratio"] = out["won"] / out["expected"].where(out["expected"] > 0)
    return out
