"""Frames and charts for the data-collection report: sources and freshness, row counts, coverage,
findings, and what changed since the last period.

Example:
    >>> import pandas as pd
    >>> from salesops.data.findings import Finding
    >>> findings_summary([Finding("warning", "opportunities", "account", 3, "deal has no account", "")])["count"].tolist()
    [1]
"""

from __future__ import annotations

import re

import pandas as pd

from ..store import ReportsStore
from .contract import TABLES
from .findings import Finding, cap, to_frame

STEP = "data_collection"
HISTORY_TABLES = ("sales", "opportunities", "survey")


def shown_origin(origin: str) -> str:
    """Where a table came from, for a report: no server folder, no database host (run.json keeps them).

    Args:
        origin: The source's full origin: a file path (with a sheet or table), or a database URL
            followed by `table NAME`.

    Returns:
        The file's name with its sheet or table, or the database's kind and name with the table.

    Example:
        >>> shown_origin("/srv/exports/sales.csv")
        'sales.csv'
        >>> shown_origin("postgresql+psycopg2://planner@db.example.com:5432/erp table sales")
        'postgresql database erp table sales'
    """
    text = str(origin)
    url = re.match(r"^([A-Za-z0-9+]+)://(\S*)(\s+table\s+.+)?$", text)
    if url:
        database = re.split(r"[\\/]", url.group(2).split("?")[0])[-1]
        return f"{url.group(1).split('+')[0]} database {database}{url.group(3) or ''}"
    return re.split(r"[\\/]", text)[-1]


def sources_table(collection, period_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Where each table came from, its rows, file time and date range, as text for the report.

    `months_behind` (history tables only: sales, opportunities, survey) counts the closed months
    after the table's latest date; anything above 0 asks for a fresh export.

    Args:
        collection: The period's `Collection`.
        period_start: The first day of the period; without it there is no `months_behind`.

    Returns:
        One row per table: `table, origin, rows, modified, first, last` and `months_behind`, as text.

    Example:
        >>> import salesops as so
        >>> p = so.params.load(period="2026-11", out="/tmp/so-doc")
        >>> sources_table(so.data.collect(p, so.store.StepStore("/tmp/so-doc/2026-11")), p.period_start)["table"].iloc[0]
        'sales'
    """
    frame = collection.sources
    month_tables = {n for n, t in TABLES.items() if any(c.kind == "month" for c in t.columns)}

    def when(value, name):
        if pd.isna(value):
            return ""
        return value.strftime("%Y-%m" if name in month_tables or name == "sales" else "%Y-%m-%d")

    out = pd.DataFrame(
        {
            "table": frame["table"],
            "origin": [shown_origin(o) for o in frame["origin"]],
            "rows": frame["rows"],
            "modified": [("" if pd.isna(m) else m.strftime("%Y-%m-%d %H:%M")) for m in frame["modified"]],
            "first": [when(v, n) for v, n in zip(frame["first"], frame["table"])],
            "last": [when(v, n) for v, n in zip(frame["last"], frame["table"])],
        }
    )
    if period_start is not None:
        closed = pd.Timestamp(period_start).to_period("M") - 1
        behind = []
        for name, last in zip(frame["table"], frame["last"]):
            history = name in HISTORY_TABLES and not pd.isna(last)
            behind.append(str(max(0, (closed - last.to_period("M")).n)) if history else "")
        out["months_behind"] = behind
    return out


def _date_column(name: str, frame: pd.DataFrame) -> str | None:
    for candidate in ("month", "created_date", "date"):
        if candidate in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[candidate]):
            return candidate
    return None


def row_counts(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per table and month (`table, month, rows`) for every table dated by month or date.

    Args:
        tables: The normalised tables by name.

    Returns:
        One row per table and month: `table, month, rows`.

    Example:
        >>> t = {"quotas": pd.DataFrame({"month": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-02-01"])})}
        >>> row_counts(t)["rows"].tolist()
        [2, 1]
    """
    parts = []
    for name in TABLES:
        frame = tables.get(name)
        if frame is None:
            continue
        col = _date_column(name, frame)
        if col is None:
            continue
        month = frame[col].dropna().dt.to_period("M").dt.to_timestamp()
        counts = month.value_counts().sort_index()
        parts.append(pd.DataFrame({"table": name, "month": counts.index, "rows": counts.to_numpy()}))
    if not parts:
        return pd.DataFrame(
            {
                "table": pd.Series(dtype="string"),
                "month": pd.Series(dtype="datetime64[ns]"),
                "rows": pd.Series(dtype=int),
            }
        )
    return pd.concat(parts, ignore_index=True)


def row_counts_by_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows and columns of each table (`table, rows, columns`).

    Args:
        tables: The normalised tables by name.

    Returns:
        One row per table of the data contract that is present, in contract order.
    """
    return pd.DataFrame(
        [{"table": n, "rows": len(tables[n]), "columns": tables[n].shape[1]} for n in TABLES if n in tables]
    )


def row_counts_chart(counts: pd.DataFrame):
    """Rows per month, one line per table.

    Args:
        counts: The rows per table and month (`row_counts`).

    Returns:
        The Altair chart.
    """
    from .. import charts

    return charts.line(
        counts, "month", "rows", color="table", title="Rows per month by table", y_title="Rows"
    )


def coverage(history: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Share of each family's SKUs that sold something, by month (`family, month, skus, selling, coverage`).

    A SKU counts from its first sale on; a low share flags a missing extract or a shrinking range.

    Args:
        history: The demand history `unique_id, ds, y`.
        products: The products table (`sku, family`).

    Returns:
        One row per family and month: `family, month, skus, selling, coverage` (coverage a fraction).

    Example:
        >>> h = pd.DataFrame({"unique_id": ["A", "B"], "ds": pd.to_datetime(["2026-01-01"] * 2), "y": [3.0, 0.0]})
        >>> coverage(h, pd.DataFrame({"sku": ["A", "B"], "family": ["F", "F"]}))["coverage"].tolist()
        [0.5]
    """
    merged = history.merge(products[["sku", "family"]], left_on="unique_id", right_on="sku", how="left")
    merged["family"] = merged["family"].fillna("(no family)")
    grouped = merged.groupby(["family", "ds"]).agg(
        skus=("unique_id", "nunique"), selling=("y", lambda y: int((y > 0).sum()))
    )
    out = grouped.reset_index().rename(columns={"ds": "month"})
    out["coverage"] = (out["selling"] / out["skus"]).round(3)
    return out


def coverage_chart(frame: pd.DataFrame):
    """Heat map of coverage by family and month.

    Args:
        frame: The coverage (`coverage`).

    Returns:
        The Altair chart.
    """
    from .. import charts

    shown = frame.assign(month=frame["month"].dt.strftime("%Y-%m"))
    return charts.heatmap(
        shown,
        "month",
        "family",
        "coverage",
        title="Share of SKUs selling, by family and month",
        scheme="blues",
        value_title="SKUs selling (%)",
        value_format=".0%",
    )


def findings_table(findings: list[Finding], max_problems: int = 50) -> pd.DataFrame:
    """Findings as a table for the report, errors first, capped per check like `salesops validate`.

    Args:
        findings: The findings.
        max_problems: How many findings of each check to show.

    Returns:
        The `findings` columns (`to_frame`), one row per kept finding.
    """
    ordered = sorted(findings, key=lambda f: 0 if f.is_error else 1)
    return to_frame(cap(ordered, max_problems))


def findings_summary(findings: list[Finding]) -> pd.DataFrame:
    """How many findings of each kind: `severity, table, column, message, count` (most frequent first).

    Args:
        findings: The findings.

    Returns:
        One row per kind of finding, errors first, then by count.

    Example:
        >>> from salesops.data.findings import Finding
        >>> f = [Finding("warning", "sales", "units", r, "negative") for r in (1, 2)]
        >>> findings_summary(f)[["message", "count"]].values.tolist()
        [['negative', 2]]
    """
    frame = to_frame(findings)
    if frame.empty:
        return pd.DataFrame({"severity": [], "table": [], "column": [], "message": [], "count": []})
    frame["column"] = frame["column"].fillna("")
    out = (
        frame.groupby(["severity", "table", "column", "message"], dropna=False)
        .size()
        .reset_index(name="count")
    )
    return out.sort_values(["severity", "count"], ascending=[True, False], ignore_index=True)


def previous_period(period: str) -> str:
    """The month before a period.

    Args:
        period: A period `YYYY-MM`.

    Returns:
        The previous period, `YYYY-MM`.

    Example:
        >>> previous_period("2026-01")
        '2025-12'
    """
    return (pd.Period(period, "M") - 1).strftime("%Y-%m")


def changes_since_last_period(p, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Compare this period's tables with the snapshot of the previous period's run (when it exists).

    Args:
        p: The validated parameters with a period (`p.out` holds the earlier runs).
        tables: This period's normalised tables by name.

    Returns:
        One row per table: `table, rows_before, rows_now, added_keys, removed_keys, note`; the note
        names revised history (sales months both snapshots hold whose units differ). Empty when the
        previous period has no published snapshot.
    """
    previous = ReportsStore(p.out).run(previous_period(p.period))
    rows = []
    if not previous.has_step(STEP):
        return pd.DataFrame(
            columns=["table", "rows_before", "rows_now", "added_keys", "removed_keys", "note"]
        )
    for name, spec in TABLES.items():
        now = tables.get(name)
        before = previous.read(STEP, name, default=None)
        key = [
            k
            for k in (("sku",) if name in ("sales", "inventory", "supply") else spec.key or ())
            if now is not None and k in now.columns and before is not None and k in before.columns
        ]
        added = removed = pd.NA
        if key and len(key) == 1:
            a, b = set(now[key[0]].dropna()), set(before[key[0]].dropna())
            added, removed = len(a - b), len(b - a)
        note = ""
        if name == "sales" and before is not None and now is not None:
            join = now.merge(before, on=["sku", "month"], suffixes=("", "_before"))
            revised = join[join["quantity"] != join["quantity_before"]]
            if len(revised):
                note = (
                    f"{len(revised)} SKU-months of history revised "
                    f"({revised['quantity'].sum() - revised['quantity_before'].sum():+,.0f} units)"
                )
            else:
                note = "history unchanged; one more month added" if len(now) >= len(before) else ""
        rows.append(
            {
                "table": name,
                "rows_before": pd.NA if before is None else len(before),
                "rows_now": pd.NA if now is None else len(now),
                "added_keys": added,
                "removed_keys": removed,
                "note": note if before is not None else "not in the previous snapshot",
            }
        )
    frame = pd.DataFrame(rows)
    for col in ("rows_before", "rows_now", "added_keys", "removed_keys"):  # whole numbers, None when unknown
        frame[col] = pd.Series([None if pd.isna(v) else int(v) for v in frame[col]], dtype=object)
    return frame


def summary_tiles(collection, period: str | None = None) -> list:
    """KPI tiles for the top of the report: tables, history, SKUs, errors, warnings, snapshot hash.

    Args:
        collection: The period's `Collection`.
        period: Unused: the tiles read everything from `collection`.

    Returns:
        The `Tile`s, for `report.tiles`.

    Example:
        >>> import salesops as so
        >>> p = so.params.load(period="2026-11", out="/tmp/so-doc")
        >>> [t.label for t in summary_tiles(so.data.collect(p, so.store.StepStore("/tmp/so-doc/2026-11")))][:2]
        ['Tables', 'History']
    """
    from ..report import Tile

    history = collection.demand_history
    months = history["ds"].nunique() if len(history) else 0
    last = history["ds"].max().strftime("%Y-%m") if len(history) else "none"
    errors, warnings = len(collection.errors), len(collection.warnings)
    return [
        Tile("Tables", f"{len(collection.tables)}", f"{int(collection.sources['rows'].sum()):,} rows read"),
        Tile("History", f"{months} months", f"through {last}"),
        Tile(
            "SKUs with history",
            f"{history['unique_id'].nunique():,}" if len(history) else "0",
            f"of {len(collection.tables.get('products', [])):,} products",
        ),
        Tile("Errors", f"{errors:,}", "run stops on any error", "bad" if errors else "good"),
        Tile("Warnings", f"{warnings:,}", "listed below", "warn" if warnings else "good"),
        Tile("Snapshot", collection.input_hash[:12], "reused" if collection.reused else "new", "info"),
    ]


def quality_note(findings: list[Finding]):
    """One sentence on the data quality, as a callout.

    Args:
        findings: Every finding of the period.

    Returns:
        The `Callout`: bad with errors, warn with warnings only, good otherwise.
    """
    from ..report import callout

    errors = sum(f.is_error for f in findings)
    warnings = len(findings) - errors
    if errors:
        return callout(f"{errors:,} errors stop this run; fix them in the source and run again.", "bad")
    if warnings:
        tables = sorted({f.table for f in findings})
        return callout(
            f"No errors. {warnings:,} warnings in {', '.join(tables)}: the data was used as it is; "
            f"check the rows below with the data owners.",
            "warn",
        )
    return callout("No errors and no warnings: every table meets the data contract.", "good")


def changes_note(p, changes: pd.DataFrame):
    """A callout saying whether a previous period's snapshot was found.

    Args:
        p: The validated parameters with a period.
        changes: The comparison (`changes_since_last_period`); empty when nothing was found.

    Returns:
        The `Callout` for the report.
    """
    from ..report import callout

    if changes.empty:
        return callout(
            f"No published run of {previous_period(p.period)} in the reports folder: nothing to compare "
            "yet; this section fills from the second cycle on.",
            "info",
        )
    return callout(f"Compared with the snapshot of {previous_period(p.period)}.", "info")
