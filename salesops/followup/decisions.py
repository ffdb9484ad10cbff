"""Were the decisions carried out: every decision of earlier cycles and this one, with its state."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from ..exceptions import ParameterError
from ..params import PERIOD_RE, Decision, Params, explain, read_yaml
from ..plan_of_record import plan_dir, read_record
from ._frames import empty, period_start
from .past_plans import _recorded_periods

__all__ = [
    "DECISION_COLUMNS",
    "STATE_ORDER",
    "collect_decisions",
    "decision_log",
]

DECISION_COLUMNS = [
    "id",
    "title",
    "owner",
    "due",
    "status",
    "period",
    "overdue",
    "days_overdue",
    "state",
    "done_on",
    "days_late",
    "decision",
    "source",
]
STATE_ORDER = {"overdue": 0, "open": 1, "done late": 2, "done": 3, "dropped": 4}


def _decision(entry, source: str) -> Decision:
    try:
        return Decision.model_validate(entry)
    except ValidationError as exc:
        raise ParameterError(explain(exc, f"{source} (decisions)")) from None


def collect_decisions(p: Params) -> list[tuple[Decision, str]]:
    """Every decision known to period `p.period`, with where it was last recorded.

    Sources, oldest first so that later ones win for the same `id`: the decisions in earlier plans of
    record (`salesops.plan_of_record.read_record`), then in earlier `params/P.yaml` files, then
    `p.decisions` (the current period's params). A decision with no `period` gets the period of the
    first source it was found in.

    Args:
        p: The run's parameters (`p.out` holds the plans of record, `p.params_files` the params folder).

    Returns:
        `(decision, source)` pairs, one per decision id; `source` is the plan of record's folder,
        a params file's path, or `"params"`.

    Raises:
        ParameterError: A recorded decision is invalid; the message names its file.
        PlanError: A plan of record's metadata cannot be read.

    Example:
        >>> [d.id for d, _ in collect_decisions(p)]   # doctest: +SKIP
        ['budget-gap-toasters']
    """
    period = str(p.period)
    found: list[tuple[str, int, Decision, str]] = []
    for past in _recorded_periods(p.out, period):
        record = read_record(p.out, past)
        if record is not None:
            where = str(plan_dir(p.out, past))
            for entry in record.get("decisions") or []:
                found.append((past, 0, _decision(entry, where), where))
    params_dir = Path(p.params_files[0]).parent if p.params_files else Path("params")
    if params_dir.is_dir():
        for path in sorted(params_dir.glob("*.yaml")):
            if PERIOD_RE.match(path.stem) and path.stem < period:
                for entry in read_yaml(path).get("decisions") or []:
                    found.append((path.stem, 1, _decision(entry, str(path)), str(path)))
    for decision in p.decisions:
        found.append((period, 2, decision, "params"))
    latest: dict[str, tuple[Decision, str]] = {}
    first_period: dict[str, str] = {}
    for past, _, decision, source in sorted(found, key=lambda f: (f[0], f[1])):
        first_period.setdefault(decision.id, decision.period or past)
        latest[decision.id] = (decision, source)
    return [(d.model_copy(update={"period": d.period or first_period[d.id]}), s) for d, s in latest.values()]


def decision_log(decisions: list[Decision] | list[tuple[Decision, str]], period: str) -> pd.DataFrame:
    """One row per decision, overdue first.

    `overdue` = still open and due before the first day of `period`; `state` = overdue, open, done,
    done late (carried out after its due date, `done_on` in params) or dropped; `days_late` counts
    the days past due of a late one.

    Args:
        decisions: Decisions, or `(decision, source)` pairs as `collect_decisions` returns them.
        period: The current period (`YYYY-MM`).

    Returns:
        `DECISION_COLUMNS`, sorted by state, due date and id.

    Example:
        >>> d = Decision(id="D1", title="Add a shift", owner="Ops", due="2026-10-15")
        >>> decision_log([d], "2026-11")[["id", "state", "days_overdue"]].values.tolist()
        [['D1', 'overdue', 17]]
    """
    if not decisions:
        return empty(DECISION_COLUMNS)
    start = period_start(period)
    rows = []
    for item in decisions:
        decision, source = item if isinstance(item, tuple) else (item, "params")
        due = pd.Timestamp(decision.due)
        overdue = decision.status == "open" and due < start
        done_on = pd.Timestamp(decision.done_on) if decision.done_on else pd.NaT
        late = decision.status == "done" and pd.notna(done_on) and done_on > due
        rows.append(
            {
                "id": decision.id,
                "title": decision.title,
                "owner": decision.owner,
                "due": due,
                "status": decision.status,
                "period": decision.period,
                "overdue": overdue,
                "days_overdue": int((start - due).days) if overdue else 0,
                "state": "overdue" if overdue else "done late" if late else decision.status,
                "done_on": done_on,
                "days_late": int((done_on - due).days) if late else 0,
                "decision": decision.decision,
                "source": source,
            }
        )
    frame = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    return frame.sort_values(
        ["state", "due", "id"], key=lambda s: s.map(STATE_ORDER) if s.name == "state" else s
    ).reset_index(drop=True)
