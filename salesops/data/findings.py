"""A data-quality finding: one problem, one line a planner can act on.

Example:
    >>> str(Finding("error", "sales", "quantity", 6, "negative value", -40))
    'sales.quantity row 6: negative value (-40)'
    >>> str(Finding("error", "sales", None, None, "table has no rows", None))
    'sales: table has no rows'
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..safety import escape_control

FINDING_COLUMNS = ("severity", "table", "column", "row", "message", "value")
MAX_VALUE_CHARS = 60


def show_value(value) -> str:
    """A value as printed in a finding: text as is, long text cut, numbers without trailing .0.

    Args:
        value: The offending value.

    Returns:
        The text to print: control characters escaped, cut at `MAX_VALUE_CHARS`, `empty` for blank.

    Example:
        >>> show_value(12.0), show_value("  ")
        ('12', 'empty')
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = str(value)
    text = escape_control(text, keep_newlines=False)  # a terminal shows escapes, never obeys them
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 3] + "..."
    return text if text.strip() else "empty"


@dataclass(frozen=True)
class Finding:
    """One problem in the inputs. `row` is the 1-based data row as a user sees it (header not counted).

    `check` names the rule (e.g. `negative`) and `more` > 0 marks the summary line of a capped check.

    Attributes:
        severity: `error` (the step stops) or `warning`.
        table: The input table.
        column: The column, or None for a problem of the whole table or row.
        row: The 1-based data row, or None when the problem is not about one row.
        message: What is wrong, for a person.
        value: The offending value, if any.
        check: The rule that found it (e.g. `negative`).
        more: On the summary line of a capped check, how many findings it stands for; else 0.
    """

    severity: str
    table: str
    column: str | None
    row: int | None
    message: str
    value: object = None
    check: str = ""
    more: int = 0

    def __str__(self) -> str:
        if self.more:
            return f"... and {self.more} more like this"
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        if self.row is not None:
            where += f" row {self.row}"
        shown = "" if self.value is None else f" ({show_value(self.value)})"
        return f"{where}: {self.message}{shown}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def cap(findings: list[Finding], max_problems: int) -> list[Finding]:
    """At most `max_problems` findings per check (table, column, rule), then one `... and N more` line.

    Args:
        findings: The findings, in report order.
        max_problems: How many findings of each check to keep.

    Returns:
        The kept findings, each capped check followed by its summary line.

    Example:
        >>> many = [Finding("warning", "opportunities", "account", i, "no account", "") for i in range(1, 5)]
        >>> [str(f) for f in cap(many, 2)][-1]
        '... and 2 more like this'
    """
    counts: dict[tuple, int] = {}
    kept: list[Finding] = []
    last_index: dict[tuple, int] = {}
    for f in findings:
        key = (f.severity, f.table, f.column, f.check or f.message)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= max_problems:
            kept.append(f)
            last_index[key] = len(kept) - 1
    out: list[Finding] = []
    summaries = {k: n - max_problems for k, n in counts.items() if n > max_problems}
    for i, f in enumerate(kept):
        out.append(f)
        key = (f.severity, f.table, f.column, f.check or f.message)
        if key in summaries and last_index[key] == i:
            out.append(
                Finding(
                    f.severity,
                    f.table,
                    f.column,
                    None,
                    f"... and {summaries[key]} more like this",
                    None,
                    f.check,
                    summaries[key],
                )
            )
    return out


def to_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as the `findings` product: `severity, table, column, row, message, value` (value as text).

    Args:
        findings: The findings.

    Returns:
        One row per finding, the value shown as `show_value` prints it.

    Example:
        >>> to_frame([Finding("warning", "sales", "units", 3, "negative", -2.0)])["value"].tolist()
        ['-2']
    """
    return pd.DataFrame(
        {
            "severity": pd.Series([f.severity for f in findings], dtype="string"),
            "table": pd.Series([f.table for f in findings], dtype="string"),
            "column": pd.Series([f.column for f in findings], dtype="string"),
            "row": pd.Series([f.row for f in findings], dtype="Int64"),
            "message": pd.Series([f.message for f in findings], dtype="string"),
            "value": pd.Series(
                [None if f.value is None else show_value(f.value) for f in findings], dtype="string"
            ),
        },
        columns=list(FINDING_COLUMNS),
    )
