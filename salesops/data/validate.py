"""Validation: every input table against the data contract, one finding per problem.

`parse_tables` turns raw tables (text as read) into typed frames and findings; it never raises for
bad data. Errors stop a run; warnings go into the data-quality section of the report.

Example:
    >>> import pandas as pd
    >>> typed, found = parse_table("sales", pd.DataFrame({"date": ["2026-01-05"], "sku": ["A"], "quantity": ["-4"]}))
    >>> [str(f) for f in found]
    ['sales.quantity row 1: negative value (-4)']
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from .contract import MAX_NUMBER, OPEN_STAGES, STAGE_ALIASES, STAGES, TABLES
from .findings import Finding

FORMULA = re.compile(r"^\s*(=|[+\-@].*[(|!])")
HINT_LIMIT = 200  # unknown values that get a did-you-mean hint


def _rows(mask: pd.Series) -> np.ndarray:
    return np.flatnonzero(np.asarray(mask, dtype=bool))


def _emit(out: list, severity, table, column, mask, message, values, check) -> None:
    for i in _rows(mask):
        out.append(Finding(severity, table, column, int(i) + 1, message, values.iloc[i], check))


def _as_text(series: pd.Series) -> pd.Series:
    """Text with missing values as '' (numbers from typed sources become their usual text)."""
    if pd.api.types.is_float_dtype(series):
        whole = series.notna() & (series % 1 == 0) & (series.abs() < 1e15)
        text = series.astype(str)
        text[whole] = series[whole].astype("int64").astype(str)
        text[series.isna()] = ""
    else:
        text = series.astype("str").fillna("")
    return text.str.strip()


def _parse_dates(text: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce")
    retry = parsed.isna() & (text != "")
    if retry.any():  # one inferred format (e.g. 11/8/2016) first, then value by value
        parsed.loc[retry] = pd.to_datetime(text[retry], errors="coerce")
        retry = parsed.isna() & (text != "")
    if retry.any():
        parsed.loc[retry] = pd.to_datetime(text[retry], format="mixed", errors="coerce")
    return parsed


def parse_table(name: str, frame: pd.DataFrame | None) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Check one table's columns and values; returns the typed frame (None if unusable) and findings."""
    spec = TABLES[name]
    out: list[Finding] = []
    if frame is None:
        return None, out
    present = [str(c) for c in frame.columns]
    for col in spec.columns:
        if col.required and col.name not in frame.columns:
            spare = [c for c in present if spec.column(c) is None]  # contract columns are taken already
            close = difflib.get_close_matches(col.name, spare, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            shown = ", ".join(present[:8]) + (", ..." if len(present) > 8 else "")
            out.append(
                Finding(
                    "error",
                    name,
                    col.name,
                    None,
                    f"required column is missing; {hint}rename a column with "
                    f"data.tables.{name}.columns (columns found: {shown or 'none'})",
                    None,
                    "missing_column",
                )
            )
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        out.append(
            Finding("error", name, str(dup), None, "column appears twice; keep one", None, "duplicate_column")
        )
        frame = frame.loc[:, ~frame.columns.duplicated()]
    if len(frame) == 0:
        severity = "error" if spec.must_have_rows else "warning"
        out.append(Finding(severity, name, None, None, "table has no rows (only a header)", None, "no_rows"))

    typed = frame.copy()
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        raw = frame[col.name]
        text = _as_text(raw) if not pd.api.types.is_datetime64_any_dtype(raw) else None
        empty = (text == "") if text is not None else raw.isna()
        if not col.allow_empty:
            _emit(
                out,
                "error",
                name,
                col.name,
                empty,
                "empty value",
                raw.astype(object).where(~empty, ""),
                "empty",
            )
        if col.kind == "text":
            _emit(
                out,
                "error",
                name,
                col.name,
                text.str.match(FORMULA),
                "text starts like a spreadsheet formula; remove the leading character",
                text,
                "formula",
            )
            typed[col.name] = text.where(~empty, None)
        elif col.kind == "number":
            if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
                values = raw.astype(float)
                bad = pd.Series(False, index=raw.index)
            else:
                values = pd.to_numeric(
                    text.str.replace(r"^\+", "", regex=True).where(~empty), errors="coerce"
                )
                bad = values.isna() & ~empty
                _emit(out, "error", name, col.name, bad, "not a number", text, "not_a_number")
            huge = ~values.isna() & ~np.isfinite(values.fillna(0)) | (values.abs() > MAX_NUMBER)
            _emit(
                out,
                "error",
                name,
                col.name,
                huge,
                "number too large to be real; the limit is 1e12",
                text if text is not None else raw,
                "too_large",
            )
            ok = ~values.isna() & ~huge
            if col.min == 0 and col.max is None:
                _emit(out, "error", name, col.name, ok & (values < 0), "negative value", text, "negative")
            elif col.min is not None and col.max is not None:
                _emit(
                    out,
                    "error",
                    name,
                    col.name,
                    ok & ((values < col.min) | (values > col.max)),
                    f"outside {col.min:g} to {col.max:g}",
                    text,
                    "out_of_range",
                )
            typed[col.name] = values.astype(float).where(~huge)
        else:  # date or month
            if text is None:
                parsed = pd.to_datetime(raw)
                if parsed.dt.tz is not None:  # timestamps with a time zone: UTC wall time
                    parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
            else:
                parsed = _parse_dates(text)
                what = "not a date; write YYYY-MM-DD" if col.kind == "date" else "not a month; write YYYY-MM"
                _emit(out, "error", name, col.name, parsed.isna() & ~empty, what, text, "bad_date")
            far = parsed.notna() & ((parsed.dt.year < 1900) | (parsed.dt.year > 2200))
            _emit(
                out,
                "error",
                name,
                col.name,
                far,
                "date out of range; years 1900 to 2200 allowed",
                text if text is not None else parsed,
                "date_range",
            )
            parsed = parsed.where(~far)
            parsed = pd.to_datetime(parsed).astype("datetime64[ns]")
            typed[col.name] = (
                parsed.dt.to_period("M").dt.to_timestamp() if col.kind == "month" else parsed.dt.normalize()
            )
    for extra in frame.columns:
        if spec.column(str(extra)) is None and (
            pd.api.types.is_object_dtype(frame[extra]) or pd.api.types.is_string_dtype(frame[extra])
        ):
            text = _as_text(frame[extra])
            _emit(
                out,
                "error",
                name,
                str(extra),
                text.str.match(FORMULA),
                "text starts like a spreadsheet formula; remove the leading character",
                text,
                "formula",
            )
    key = [k for k in spec.key if k in typed.columns]
    if key:
        dup = typed.duplicated(key, keep="first")
        if dup.any():
            key_values = typed[key[0]].astype(str)
            for k in key[1:]:
                key_values = key_values + " / " + typed[k].astype(str)
            first = (
                pd.Series(np.arange(len(typed)) + 1, index=typed.index).groupby(key_values).transform("min")
            )
        for i in _rows(dup):
            out.append(
                Finding(
                    "error",
                    name,
                    "/".join(key),
                    int(i) + 1,
                    f"duplicate {' / '.join(key)}, also in row {int(first.iloc[i])}",
                    key_values.iloc[i],
                    "duplicate",
                )
            )
    return typed, out


def _hint(value: str, known: list[str], cache: dict) -> str:
    if value not in cache:
        if len(cache) >= HINT_LIMIT:
            return ""
        close = difflib.get_close_matches(value, known, n=1, cutoff=0.75)
        if not close:  # spaces, dashes and case differ most often in real exports
            squash = {re.sub(r"[\s_\-]", "", k).lower(): k for k in known}
            match = squash.get(re.sub(r"[\s_\-]", "", value).lower())
            close = [match] if match else []
        cache[value] = f"; did you mean '{close[0]}'?" if close else ""
    return cache[value]


def _references(out, typed, table, column, target, target_column, severity, what) -> None:
    frame, ref = typed.get(table), typed.get(target)
    if frame is None or ref is None or column not in frame.columns or target_column not in ref.columns:
        return
    known_values = ref[target_column].dropna()
    known = set(known_values)
    values = frame[column]
    unknown = values.notna() & ~values.isin(known)
    cache: dict = {}
    known_list = sorted(known)
    for i in _rows(unknown):
        v = values.iloc[i]
        out.append(
            Finding(
                severity,
                table,
                column,
                int(i) + 1,
                f"unknown {what}, not in {target}{_hint(str(v), known_list, cache)}",
                v,
                "unknown",
            )
        )


def _missing_months(out, frame, table, column, group, severity, message) -> None:
    if frame is None or column not in frame.columns or frame[column].isna().all():
        return
    months = frame[column].dropna().dt.to_period("M")
    groups = [(None, months)] if group is None else months.groupby(frame.loc[months.index, group])
    for g, m in groups:
        have = set(m.unique())
        full = pd.period_range(min(have), max(have), freq="M")
        for gap in full[~full.isin(list(have))]:
            label = message.format(group=g)
            out.append(Finding(severity, table, column, None, label, str(gap), "missing_month"))


def _normalise_stage(value):
    if value is None:
        return None
    key = str(value).strip().lower()
    return key if key in STAGES else STAGE_ALIASES.get(key, value)


def cross_checks(typed: dict[str, pd.DataFrame | None], period_start: pd.Timestamp | None) -> list[Finding]:
    """Checks between tables and against the period; stages are normalised in place."""
    out: list[Finding] = []
    for table in ("sales", "inventory", "supply"):
        _references(out, typed, table, "sku", "products", "sku", "error", "SKU")
    _references(out, typed, "opportunities", "sku", "products", "sku", "warning", "SKU")
    _references(out, typed, "opportunities", "rep", "reps", "rep", "error", "rep")
    _references(out, typed, "quotas", "rep", "reps", "rep", "error", "rep")
    _references(out, typed, "products", "resource", "capacity", "resource", "error", "resource")
    _references(out, typed, "survey", "team", "reps", "team", "warning", "team")
    _references(out, typed, "budget", "family", "products", "family", "warning", "family")

    _missing_months(
        out,
        typed.get("sales"),
        "sales",
        "date",
        None,
        "error",
        "no sales at all in this month; the export looks incomplete",
    )
    _missing_months(
        out,
        typed.get("capacity"),
        "capacity",
        "month",
        "resource",
        "error",
        "no capacity for resource {group} in this month",
    )
    _missing_months(
        out,
        typed.get("budget"),
        "budget",
        "month",
        "family",
        "warning",
        "no budget for family {group} in this month",
    )

    opp = typed.get("opportunities")
    if opp is not None and "stage" in opp.columns:
        opp["stage"] = opp["stage"].map(_normalise_stage)
        bad = opp["stage"].notna() & ~opp["stage"].isin(STAGES)
        for i in _rows(bad):
            out.append(
                Finding(
                    "error",
                    "opportunities",
                    "stage",
                    int(i) + 1,
                    "unknown stage; map it to prospecting, qualified, proposal, won or lost with "
                    "data.tables.opportunities.values.stage",
                    opp["stage"].iloc[i],
                    "unknown_stage",
                )
            )
        is_open = opp["stage"].isin(OPEN_STAGES)
        if "close_date" in opp.columns:
            no_close = opp["close_date"].isna()
            _emit(
                out,
                "warning",
                "opportunities",
                "close_date",
                is_open & no_close,
                "open deal has no close date",
                pd.Series("empty", index=opp.index),
                "open_no_close",
            )
            _emit(
                out,
                "warning",
                "opportunities",
                "close_date",
                ~is_open & opp["stage"].isin(STAGES) & no_close,
                "closed deal has no close date",
                pd.Series("empty", index=opp.index),
                "closed_no_close",
            )
        if "amount" in opp.columns:
            _emit(
                out,
                "warning",
                "opportunities",
                "amount",
                opp["amount"].isna() & is_open,
                "open deal has no amount",
                pd.Series("empty", index=opp.index),
                "open_no_amount",
            )
            _emit(
                out,
                "warning",
                "opportunities",
                "amount",
                opp["amount"].isna() & (opp["stage"] == "won"),
                "won deal has no amount",
                pd.Series("empty", index=opp.index),
                "won_no_amount",
            )
        if "created_date" in opp.columns:
            _emit(
                out,
                "warning",
                "opportunities",
                "created_date",
                opp["created_date"].isna(),
                "deal has no created date",
                pd.Series("empty", index=opp.index),
                "no_created",
            )
            if "close_date" in opp.columns:
                _emit(
                    out,
                    "warning",
                    "opportunities",
                    "close_date",
                    opp["close_date"] < opp["created_date"],
                    "deal closes before it was created",
                    opp["close_date"].dt.strftime("%Y-%m-%d"),
                    "close_before_created",
                )
        if "account" in opp.columns:
            _emit(
                out,
                "warning",
                "opportunities",
                "account",
                opp["account"].isna(),
                "deal has no account",
                pd.Series("empty", index=opp.index),
                "no_account",
            )

    if period_start is not None:
        label = period_start.strftime("%Y-%m")
        sales = typed.get("sales")
        if sales is not None and "date" in sales.columns:
            late = sales["date"] >= period_start
            _emit(
                out,
                "warning",
                "sales",
                "date",
                late,
                f"dated in or after the period {label}; left out of the history",
                sales["date"].dt.strftime("%Y-%m-%d"),
                "after_period",
            )
        survey = typed.get("survey")
        if survey is not None and "date" in survey.columns:
            late = survey["date"] >= period_start + pd.offsets.MonthBegin(1)
            _emit(
                out,
                "warning",
                "survey",
                "date",
                late,
                f"answer dated after the period {label}",
                survey["date"].dt.strftime("%Y-%m-%d"),
                "after_period",
            )
        if opp is not None and "created_date" in opp.columns:
            late = opp["created_date"] >= period_start + pd.offsets.MonthBegin(1)
            _emit(
                out,
                "warning",
                "opportunities",
                "created_date",
                late,
                f"deal created after the period {label}",
                opp["created_date"].dt.strftime("%Y-%m-%d"),
                "after_period",
            )
    return out


def parse_tables(
    raw: dict, period_start: pd.Timestamp | None
) -> tuple[dict[str, pd.DataFrame | None], list[Finding]]:
    """Validate every table: source problems, then per-table checks, then checks between tables."""
    findings: list[Finding] = []
    typed: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        item = raw.get(name)
        frame = None if item is None else item.frame
        if item is not None:
            findings.extend(item.findings)
        parsed, problems = parse_table(name, frame)
        typed[name] = parsed
        findings.extend(problems)
    findings.extend(cross_checks(typed, period_start))
    return typed, findings
