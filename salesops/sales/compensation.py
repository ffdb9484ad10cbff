"""Variable compensation: payout rates from attainment and a payout statement per rep and month.

Every figure of the statement is a column, so a payout can be recomputed by hand from the row:
`payout = target_incentive x (individual_weight x individual_rate + team_weight x team_rate)`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..params import CompensationPlan
from . import _frames
from ._frames import WON


def payout_rate(attainment, plan: CompensationPlan):
    """Share of the target incentive earned at `attainment` (a number, array or Series).

    0 below the threshold (and for unknown attainment); equal to attainment up to 100%; above it
    `1 + (a - 1) x accelerator`, with `a` capped at `plan.cap`.

    Args:
        attainment: Attainment as a fraction (1.0 = quota): a number, an array or a Series.
        plan: The compensation plan (threshold, accelerator, cap).

    Returns:
        The payout rate, shaped like `attainment` (a Series keeps its index).

    Example:
        >>> plan = CompensationPlan(threshold=0.5, accelerator=2.0, cap=1.5)
        >>> [float(payout_rate(a, plan)) for a in (0.4, 0.8, 1.2, 1.9)]
        [0.0, 0.8, 1.4, 2.0]
    """
    a = np.asarray(attainment, dtype=float)
    capped = np.minimum(a, plan.cap)
    rate = np.where(capped <= 1.0, capped, 1.0 + (capped - 1.0) * plan.accelerator)
    rate = np.where(np.isnan(a) | (a < plan.threshold), 0.0, rate)
    if isinstance(attainment, pd.Series):
        return pd.Series(rate, index=attainment.index)
    return rate if rate.ndim else float(rate)


def target_incentives(roster: pd.DataFrame, plan: CompensationPlan) -> pd.Series:
    """Each rep's monthly on-target incentive: looked up by rep name, then role (if `reps` has one),
    then team, then `default`. Raises `ParameterError` naming the rep when nothing matches.

    Args:
        roster: The reps: `rep, team`, optionally `role`.
        plan: The compensation plan, whose `target_incentive` maps names, roles and teams to amounts.

    Returns:
        The monthly target incentive of each rep, aligned with `roster`.

    Raises:
        ParameterError: No entry matches a rep; the message names the rep.
    """
    table = plan.target_incentive
    values, missing = [], []
    roles = roster["role"] if "role" in roster.columns else pd.Series(None, index=roster.index)
    for rep, role, team in zip(roster["rep"], roles, roster["team"]):
        for key in (rep, role, team, "default"):
            if key is not None and not (isinstance(key, float) and np.isnan(key)) and str(key) in table:
                values.append(table[str(key)])
                break
        else:
            values.append(np.nan)
            missing.append(
                f"{rep} (role {role}, team {team})" if role is not None else f"{rep} (team {team})"
            )
    if missing:
        raise ParameterError(
            f"sales.compensation.target_incentive has no amount for {', '.join(missing[:5])}"
            f"{' and more' if len(missing) > 5 else ''}; add the rep, role or team, or a 'default' key"
        )
    return pd.Series(values, index=roster.index, dtype=float)


def payouts(
    opportunities: pd.DataFrame,
    quotas: pd.DataFrame,
    reps: pd.DataFrame,
    plan: CompensationPlan,
    month: pd.Timestamp | str,
) -> pd.DataFrame:
    """The payout statement for `month`: one row per rep with every input of the payout.

    Columns: `month, rep, team, target_incentive, quota, won, attainment, individual_rate, team_quota,
    team_won, team_attainment, team_rate, individual_weight, team_weight, individual_payout, team_payout,
    payout, note`. `won` is the amount of deals won (closed) in the month; team figures pool the team's
    eligible reps. Only eligible reps are on the statement (`plan.eligible`: by default the reps with a
    quota in the month; `all`; or a list of rep names, roles or teams). An eligible rep without a quota
    earns no individual part (note `no quota`).

    Args:
        opportunities: The opportunities table.
        quotas: The quotas table (`rep, month, quota`).
        reps: The reps table (`rep, team`, optionally `role`).
        plan: The compensation plan.
        month: The month paid, a Timestamp or `YYYY-MM`.

    Returns:
        One row per rep with the columns above.

    Raises:
        ParameterError: No target incentive matches a rep (`target_incentives`).

    Example:
        >>> payouts(opps, quotas, reps, p.sales.compensation, "2026-10")  # doctest: +SKIP
    """
    month = pd.Timestamp(month).to_period("M").to_timestamp()
    opps = _frames.opportunities(opportunities)
    q = _frames.quotas(quotas)
    q = q.loc[q["month"] == month]
    roster = _frames.reps(reps, opps)
    extra = sorted(set(q["rep"]) - set(roster["rep"]))
    if extra:
        roster = pd.concat(
            [roster, pd.DataFrame({"rep": extra, "team": _frames.UNKNOWN, "region": _frames.UNKNOWN})],
            ignore_index=True,
        )
    won = opps.loc[(opps["stage"] == WON) & (_frames.month_start(opps["close_date"]) == month)]
    roster = roster.loc[eligible(roster, q, plan)].reset_index(drop=True)
    out = roster.loc[:, ["rep", "team"] + (["role"] if "role" in roster.columns else [])].copy()
    out.insert(0, "month", month)
    out["target_incentive"] = target_incentives(roster, plan)
    out["quota"] = out["rep"].map(q.set_index("rep")["quota"])
    out["won"] = out["rep"].map(won.groupby("rep")["amount"].sum()).fillna(0.0)
    out["attainment"] = out["won"] / out["quota"].where(out["quota"] > 0)
    out["individual_rate"] = payout_rate(out["attainment"], plan)
    team = out.groupby("team").agg(team_quota=("quota", "sum"), team_won=("won", "sum"))
    out = out.join(team, on="team")
    out["team_attainment"] = out["team_won"] / out["team_quota"].where(out["team_quota"] > 0)
    out["team_rate"] = payout_rate(out["team_attainment"], plan)
    out["individual_weight"], out["team_weight"] = plan.individual_weight, plan.team_weight
    out["individual_payout"] = out["target_incentive"] * plan.individual_weight * out["individual_rate"]
    out["team_payout"] = out["target_incentive"] * plan.team_weight * out["team_rate"]
    out["payout"] = out["individual_payout"] + out["team_payout"]
    out["note"] = [_note(a, plan) for a in out["attainment"]]
    return out.sort_values(["team", "rep"]).reset_index(drop=True)


def eligible(roster: pd.DataFrame, quotas: pd.DataFrame, plan: CompensationPlan) -> pd.Series:
    """Which reps of `roster` are paid under `plan.eligible`.

    Args:
        roster: The reps (`rep, team`, optionally `role`).
        quotas: The month's quotas (`rep, quota`).
        plan: The compensation plan.

    Returns:
        A boolean mask aligned with `roster`: `quota` (default) keeps reps with a quota above 0 in the
        month, `all` keeps every rep, a list keeps reps named in it by name, role or team.

    Example:
        >>> roster = pd.DataFrame({"rep": ["a", "b"], "team": ["T", "T"]})
        >>> eligible(roster, pd.DataFrame({"rep": ["a"], "quota": [100.0]}), CompensationPlan()).tolist()
        [True, False]
    """
    rule = plan.eligible
    if rule == "all":
        return pd.Series(True, index=roster.index)
    if rule == "quota":
        with_quota = set(quotas.loc[quotas["quota"] > 0, "rep"])
        return roster["rep"].isin(with_quota)
    names = set(rule)
    mask = roster["rep"].isin(names) | roster["team"].isin(names)
    if "role" in roster.columns:
        mask |= roster["role"].isin(names)
    return mask


def _note(attainment: float, plan: CompensationPlan) -> str:
    if pd.isna(attainment):
        return "no quota"
    if attainment < plan.threshold:
        return f"below threshold {plan.threshold:.0%}"
    if attainment > plan.cap:
        return f"capped at {plan.cap:.0%}"
    if attainment > 1:
        return f"accelerator x{plan.accelerator:g} above 100%"
    return "linear"
