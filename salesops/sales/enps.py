"""Employee NPS from pulse surveys, per team and month, with small teams suppressed for anonymity.

Promoters score 9-10, passives 7-8, detractors 0-6; eNPS = % promoters - % detractors (-100 to 100).
A team with fewer than `min_responses` respondents in a month shows no scores (`suppressed`). The
company row minus the published teams must not reveal the hidden teams' answers either, so while the
hidden teams hold fewer than `min_responses` answers together, the smallest published team is hidden too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError
from . import _frames

ALL = "All"
SCORE_COLUMNS = ("promoters", "passives", "detractors", "enps")
COLUMNS = [
    "team",
    "month",
    "responses",
    "promoters",
    "passives",
    "detractors",
    "enps",
    "suppressed",
    "headcount",
    "response_rate",
    "change",
]


def classify(scores: pd.Series) -> pd.Series:
    """`promoter` (9-10), `passive` (7-8) or `detractor` (0-6) for each score.

    Args:
        scores: Scores from 0 to 10.

    Returns:
        The class of each score, aligned with `scores`.

    Example:
        >>> classify(pd.Series([10, 9, 8, 7, 6, 0])).tolist()
        ['promoter', 'promoter', 'passive', 'passive', 'detractor', 'detractor']
    """
    s = scores.astype(float)
    return pd.Series(np.select([s >= 9, s >= 7], ["promoter", "passive"], "detractor"), index=scores.index)


def _headcount(reps: pd.DataFrame | None, months: pd.Series) -> pd.DataFrame:
    """Reps per team and month (counting only reps started by the month's end, when start dates exist)."""
    if reps is None or reps.empty:
        return pd.DataFrame(columns=["team", "month", "headcount"])
    roster = _frames.reps(reps)
    rows = []
    for month in sorted(months.unique()):
        active = roster
        if "start_date" in roster.columns:
            active = roster.loc[
                roster["start_date"].isna() | (roster["start_date"] <= month + pd.offsets.MonthEnd(0))
            ]
        counts = active.groupby("team").size()
        rows += [{"team": t, "month": month, "headcount": int(n)} for t, n in counts.items()]
        rows.append({"team": ALL, "month": month, "headcount": len(active)})
    return pd.DataFrame(rows)


def enps(
    survey: pd.DataFrame,
    reps: pd.DataFrame | None = None,
    min_responses: int = 5,
    question: str | None = None,
) -> pd.DataFrame:
    """eNPS per team and month, plus a company-wide row (team `All`) per month.

    Columns: `team, month, responses, promoters, passives, detractors, enps, suppressed, headcount,
    response_rate, change` (`change`: eNPS points vs the team's previous published month). Each
    respondent counts once per team and month (their last answer), and once in the company row
    however many teams they answered for (their last answer of the month). Suppressed rows keep
    `responses` but have null scores. A missing score, or one outside 0 to 10, is refused.

    Args:
        survey: The survey answers: `respondent, team, score, date` (and `question` when several).
        reps: The reps table, for each team's headcount and response rate.
        min_responses: Below this many answers a team-month's scores are suppressed.
        question: The question scored, when the survey has a `question` column.

    Returns:
        One row per team and month, then the company row (`All`), with the columns above.

    Example:
        >>> survey = pd.DataFrame({"respondent": list("abcde"), "team": "T", "score": [10, 9, 8, 6, 3],
        ...                        "date": pd.Timestamp("2026-10-05")})
        >>> enps(survey, min_responses=5)[["team", "enps"]].values.tolist()
        [['All', 0.0], ['T', 0.0]]

    Raises:
        DataError: A score is missing or outside 0 to 10 (the rows are named).
    """
    _frames.require(survey, "survey")
    answers = survey.copy()
    score = pd.to_numeric(answers["score"], errors="coerce")
    bad = score.isna() | (score < 0) | (score > 10)
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:10])
        raise DataError(
            f"survey.score: {int(bad.sum())} answer(s) without a score from 0 to 10 (rows {rows}"
            f"{', ...' if bad.sum() > 10 else ''}); a missing score is not a detractor: drop those answers "
            "or fill them in"
        )
    answers["score"] = score
    if question is not None and "question" in answers.columns:
        answers = answers.loc[answers["question"] == question]
    answers["month"] = _frames.month_start(answers["date"])
    answers = answers.sort_values("date").drop_duplicates(["team", "month", "respondent"], keep="last")
    answers["kind"] = classify(answers["score"])
    company = answers.sort_values("date", kind="stable").drop_duplicates(["month", "respondent"], keep="last")
    frames = [answers, company.assign(team=ALL)]
    counts = (
        pd.concat(frames)
        .groupby(["team", "month"])["kind"]
        .value_counts()
        .unstack(fill_value=0)
        .reindex(columns=["promoter", "passive", "detractor"], fill_value=0)
    )
    out = pd.DataFrame(
        {"promoters": counts["promoter"], "passives": counts["passive"], "detractors": counts["detractor"]}
    ).reset_index()
    if out.empty:
        return pd.DataFrame(columns=COLUMNS)
    out["responses"] = out[["promoters", "passives", "detractors"]].sum(axis=1)
    out["enps"] = 100.0 * (out["promoters"] - out["detractors"]) / out["responses"]
    out["suppressed"] = out["responses"] < min_responses
    _complementary_suppression(out, min_responses)
    for col in SCORE_COLUMNS:
        out[col] = out[col].astype(float).mask(out["suppressed"])
    out = out.merge(_headcount(reps, out["month"]), on=["team", "month"], how="left")
    out["response_rate"] = out["responses"] / out["headcount"].where(out["headcount"] > 0)
    out = out.assign(company_last=out["team"] != ALL).sort_values(["company_last", "team", "month"])
    published = out.dropna(subset=["enps"])
    out["change"] = published.groupby("team")["enps"].diff()
    return out.loc[:, COLUMNS].reset_index(drop=True)


def _complementary_suppression(frame: pd.DataFrame, min_responses: int) -> None:
    """Hide more teams where the `All` row minus the published teams would reveal fewer than
    `min_responses` answers: the smallest published team is hidden until the hidden pool is big enough."""
    for month, group in frame.loc[frame["team"] != ALL].groupby("month"):
        company_shown = not frame.loc[(frame["team"] == ALL) & (frame["month"] == month), "suppressed"].all()
        hidden = group["suppressed"].copy()
        while company_shown and 0 < group.loc[hidden, "responses"].sum() < min_responses and not hidden.all():
            hidden[group.loc[~hidden, "responses"].idxmin()] = True
        frame.loc[hidden.index, "suppressed"] = hidden
