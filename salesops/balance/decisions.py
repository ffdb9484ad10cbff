"""The decisions the executive review must take: one per large exception, with owner, due date and options."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from ..report import money

__all__ = ["OPTIONS", "OWNERS", "RECOMMENDATION_COLUMNS", "URGENT", "decision_id", "recommendations"]

RECOMMENDATION_COLUMNS = [
    "id",
    "kind",
    "subject",
    "month",
    "value_at_risk",
    "title",
    "owner",
    "due",
    "options",
]
OWNERS = {
    "overload": "Head of Operations",
    "shortage": "Supply Planning Manager",
    "excess": "Supply Planning Manager",
    "budget_gap": "Sales Director",
    "bias": "Demand Planning Manager",
}
OPTIONS = {
    "overload": [
        "approve overtime or an extra shift",
        "move volume to months with spare capacity",
        "outsource",
        "accept the backlog",
    ],
    "shortage": ["expedite supply", "allocate stock to key customers", "accept late or lost sales"],
    "excess": ["slow production or purchases", "promote to sell through", "keep as a buffer"],
    "budget_gap": ["sales push or promotion", "revise the budget to the plan", "accept and report the gap"],
    "bias": ["correct the forecast", "review the overrides", "watch the tracking signal"],
}
URGENT = {"overload", "shortage"}


def _title(ex) -> str:
    """A one-line statement of the problem a decision is about, with its size."""
    at_risk = money(ex.value_at_risk)
    month = f"{pd.Timestamp(ex.month):%Y-%m}"
    return {
        "overload": f"{ex.subject} over capacity from {month} ({at_risk} of sales at risk)",
        "shortage": f"{ex.subject} short of stock from {month} ({at_risk} of sales late)",
        "excess": f"{ex.subject} excess stock peaks in {month} ({at_risk} at cost)",
        "budget_gap": f"{ex.subject} plan below budget ({at_risk} short)",
        "bias": f"{ex.subject} forecast biased ({at_risk} of planned sales)",
    }[ex.kind]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def decision_id(kind: str, subject: str) -> str:
    """A stable id for the decision an exception needs.

    Args:
        kind: The exception's kind (`overload`, `budget_gap`, ...).
        subject: The resource or family it is about.

    Returns:
        The id, lower case with hyphens.

    Example:
        >>> decision_id("budget_gap", "Assembly Line")
        'budget-gap-assembly-line'
    """
    return f"{kind.replace('_', '-')}-{_slug(subject)}"


def recommendations(
    exceptions_frame: pd.DataFrame,
    period_start: pd.Timestamp,
    top: int = 8,
    due_days: int = 14,
    owners: Mapping[str, str] | None = None,
    per_kind: int | None = 3,
) -> pd.DataFrame:
    """Decisions needed: one per exception among the largest by value at risk.

    Due `due_days` after the period starts; one week for overloads and shortages that hit in the
    first two months.

    Args:
        exceptions_frame: The exceptions (`exceptions`).
        period_start: The first day of the period.
        top: How many decisions at most.
        due_days: Days after the period starts a decision is due.
        owners: Kind to owner, over the defaults (`OWNERS`).
        per_kind: At most this many of one kind, so one kind does not crowd out the others (None: no
            limit).

    Returns:
        The columns `RECOMMENDATION_COLUMNS`, largest value at risk first.

    Example:
        >>> ex = pd.DataFrame({"kind": ["overload"], "subject": ["Assembly"], "month": [pd.Timestamp("2027-01-01")],
        ...                    "value_at_risk": [5e5], "detail": ["..."]})
        >>> recommendations(ex, pd.Timestamp("2026-11-01"))[["id", "owner"]].iloc[0].tolist()
        ['overload-assembly', 'Head of Operations']
    """
    owners = {**OWNERS, **(owners or {})}
    ranked = exceptions_frame.sort_values("value_at_risk", ascending=False, kind="stable")
    if per_kind:
        ranked = ranked[ranked.groupby("kind").cumcount() < per_kind]
    head = ranked.head(top)
    rows = []
    for ex in head.itertuples():
        urgent = ex.kind in URGENT and pd.Timestamp(ex.month) <= period_start + pd.DateOffset(months=1)
        due = (period_start + pd.Timedelta(days=7 if urgent else due_days)).date()
        rows.append(
            {
                "id": decision_id(ex.kind, ex.subject),
                "kind": ex.kind,
                "subject": ex.subject,
                "month": ex.month,
                "value_at_risk": ex.value_at_risk,
                "title": _title(ex),
                "owner": owners.get(ex.kind, "S&OP lead"),
                "due": due,
                "options": "; ".join(OPTIONS[ex.kind]),
            }
        )
    out = pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)
    out["due"] = pd.to_datetime(out["due"])
    return out
