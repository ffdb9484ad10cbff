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
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from .contract import MAX_NUMBER, OPEN_STAGES, STAGE_ALIASES, STAGES, TABLES, column_needed, needed
from .findings import Finding

FORMULA = re.compile(r"^\s*(=|[+\-@].*[(|!])")
HINT_LIMIT = 200  # unknown values that get a did-you-mean hint
MAX_TEXT_CHARS = 1000  # default of data.max_text_chars: longer texts are export errors


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


# a time of day with a zone: `Z`, `UTC`, `+01:00`, `-0500`, `+01`
_TIME_ZONE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T](.*))?$")


def _to_datetime(values: pd.Series, **kw) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(values, errors="coerce", **kw)
        except (ValueError, TypeError, OverflowError):  # mixed inputs pandas refuses as a whole
            return values.map(lambda v: _one_date(v, **kw))


def _one_date(value, **kw):
    try:
        return pd.to_datetime(value, errors="coerce", **kw)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def _day_first(text: pd.Series, out: list | None, table: str, column: str) -> pd.Series:
    """Dates written a/b/yyyy: decide day-first or month-first for the whole column, or refuse.

    Returns ISO text for those values (others unchanged); adds one finding naming the order.
    """
    parts = text.str.extract(_NUMERIC_DATE)
    numeric = parts[0].notna()
    if not numeric.any():
        return text
    a = parts.loc[numeric, 0].astype(int)
    b = parts.loc[numeric, 1].astype(int)
    big_a, big_b = a[a > 12], b[b > 12]
    example = lambda idx: (int(text.index.get_loc(idx)) + 1, text.loc[idx])
    if len(big_a) and len(big_b):
        (row_a, va), (row_b, vb) = example(big_a.index[0]), example(big_b.index[0])
        if out is not None:
            out.append(
                Finding(
                    "error",
                    table,
                    column,
                    row_a,
                    f"dates mix day-first (this row) and month-first (row {row_b}: {vb}) order; "
                    f"write every date as YYYY-MM-DD",
                    va,
                    "date_order",
                )
            )
        return text.where(~numeric, "")
    if len(big_a):
        day_first, why = True, example(big_a.index[0])
    elif len(big_b):
        day_first, why = False, None
    elif a.nunique() == 1 and b.nunique() > 1:  # monthly totals dated the 1st: 01/02/2026, 01/03/2026
        day_first, why = True, example(a.index[0])
    elif b.nunique() == 1 or a.nunique() == 1:
        day_first, why = False, None
    else:
        if out is not None:
            row, value = example(a.index[0])
            out.append(
                Finding(
                    "error",
                    table,
                    column,
                    row,
                    "dates are ambiguous: no day above 12 shows whether they are written day first "
                    "(DD/MM/YYYY) or month first (MM/DD/YYYY); write every date as YYYY-MM-DD",
                    value,
                    "date_order",
                )
            )
        return text.where(~numeric, "")
    if day_first and why is not None and out is not None:
        out.append(
            Finding(
                "warning",
                table,
                column,
                why[0],
                "dates are written day first (DD/MM/YYYY) and read that way; write YYYY-MM-DD to be "
                "unambiguous",
                why[1],
                "day_first",
            )
        )
    day, month = (parts[0], parts[1]) if day_first else (parts[1], parts[0])
    iso = (
        parts[2]
        + "-"
        + month.str.zfill(2)
        + "-"
        + day.str.zfill(2)
        + parts[3].fillna("").map(lambda t: f" {t}" if t else "")
    )
    return text.where(~numeric, iso)


def _parse_dates(text: pd.Series, out: list | None = None, table: str = "", column: str = "") -> pd.Series:
    """Dates as written in exports. A time zone is dropped and the date kept as written: a sale at
    `2026-10-31T23:30:00-05:00` counts on 31 October, the calendar date where it happened."""
    text = text.str.replace(_TIME_ZONE, r"\1", regex=True)
    text = _day_first(text, out, table, column)
    parsed = _to_datetime(text.where(text != ""), format="ISO8601")
    retry = parsed.isna() & (text != "")
    if retry.any():  # one inferred format (e.g. 2016/11/08) first, then value by value
        parsed.loc[retry] = _to_datetime(text[retry])
        retry = parsed.isna() & (text != "")
    if retry.any():
        parsed.loc[retry] = _to_datetime(text[retry], format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def parse_table(
    name: str, frame: pd.DataFrame | None, max_text_chars: int = MAX_TEXT_CHARS
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Check one table's columns and values; returns the typed frame (None if unusable) and findings.

    Args:
        name: The contract table (a key of `TABLES`).
        frame: The table as read (text), or None when it could not be read.
        max_text_chars: The longest text allowed in a cell (`data.max_text_chars`).

    Returns:
        `(typed, findings)`: the table with its columns converted to their contract kinds (None if
        unusable or not read) and one finding per problem.
    """
    spec = TABLES[name]
    out: list[Finding] = []
    if frame is None:
        return None, out
    _missing_columns(out, name, frame)
    frame = _without_duplicate_columns(out, name, frame)
    if len(frame) == 0:
        severity = "error" if spec.must_have_rows else "warning"
        out.append(Finding(severity, name, None, None, "table has no rows (only a header)", None, "no_rows"))

    typed = frame.copy()
    for col in spec.columns:
        if col.name in frame.columns:
            typed[col.name] = _typed_column(out, name, col, frame[col.name], max_text_chars)
    _extra_column_checks(out, name, frame, max_text_chars)
    _duplicate_keys(out, name, typed)
    return typed, out


def _missing_columns(out: list, name: str, frame: pd.DataFrame) -> None:
    """One error per required column the table lacks, with a did-you-mean hint."""
    spec = TABLES[name]
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


def _without_duplicate_columns(out: list, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with only the first of repeated column names (an error names the first repeat)."""
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        out.append(
            Finding("error", name, str(dup), None, "column appears twice; keep one", None, "duplicate_column")
        )
        frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame


def _typed_column(out: list, name: str, col, raw: pd.Series, max_text_chars: int) -> pd.Series:
    """One contract column converted to its kind (text, number, date or month), with its findings."""
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
    if text is not None:
        _too_long(out, name, col.name, text, max_text_chars)
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
        return text.where(~empty, None)
    if col.kind == "number":
        return _number_column(out, name, col, raw, text, empty)
    return _date_column(out, name, col, raw, text, empty)


def _number_column(out: list, name: str, col, raw: pd.Series, text, empty: pd.Series) -> pd.Series:
    """A number column as floats (NaN where not a number or too large), with its findings."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype(float)
    else:
        values = pd.to_numeric(text.str.replace(r"^\+", "", regex=True).where(~empty), errors="coerce")
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
    return values.astype(float).where(~huge)


def _date_column(out: list, name: str, col, raw: pd.Series, text, empty: pd.Series) -> pd.Series:
    """A date column as day timestamps (a month column as month starts), with its findings."""
    if text is None:
        parsed = pd.to_datetime(raw)
        if parsed.dt.tz is not None:  # timestamps with a time zone: the date where it happened
            parsed = parsed.dt.tz_localize(None)
    else:
        parsed = _parse_dates(text, out, name, col.name)
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
    return parsed.dt.to_period("M").dt.to_timestamp() if col.kind == "month" else parsed.dt.normalize()


def _extra_column_checks(out: list, name: str, frame: pd.DataFrame, max_text_chars: int) -> None:
    """Text columns outside the contract: too long or starting like a spreadsheet formula."""
    spec = TABLES[name]
    for extra in frame.columns:
        if spec.column(str(extra)) is None and (
            pd.api.types.is_object_dtype(frame[extra]) or pd.api.types.is_string_dtype(frame[extra])
        ):
            text = _as_text(frame[extra])
            _too_long(out, name, str(extra), text, max_text_chars)
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


def _duplicate_keys(out: list, name: str, typed: pd.DataFrame) -> None:
    """One error per row whose key repeats an earlier row's, naming the first row with it."""
    key = [k for k in TABLES[name].key if k in typed.columns]
    if not key:
        return
    dup = typed.duplicated(key, keep="first")
    if not dup.any():
        return
    key_values = typed[key[0]].astype(str).fillna("")  # an empty key is its own finding
    for k in key[1:]:
        key_values = key_values + " / " + typed[k].astype(str).fillna("")
    first = pd.Series(np.arange(len(typed)) + 1, index=typed.index).groupby(key_values).transform("min")
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


def _too_long(out: list, table: str, column: str, text: pd.Series, limit: int) -> None:
    lengths = text.str.len()
    for i in _rows(lengths > limit):
        out.append(
            Finding(
                "error",
                table,
                column,
                int(i) + 1,
                f"text of {int(lengths.iloc[i]):,} characters, over the limit of {limit:,}; shorten it, "
                f"or raise data.max_text_chars if such texts are real",
                text.iloc[i],
                "too_long",
            )
        )


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
    if group is not None and group not in frame.columns:
        return  # the missing column is its own finding
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


def cross_checks(
    typed: dict[str, pd.DataFrame | None],
    period_start: pd.Timestamp | None,
    allow_missing_recent_months: int = 0,
) -> list[Finding]:
    """Checks between tables and against the period; stages are normalised in place.

    Args:
        typed: The typed tables (`parse_table`'s frames), by name; None for a table not read.
        period_start: The first day of the period, or None to skip the checks against the period.
        allow_missing_recent_months: How many months before the period the sales history may lack
            (`data.allow_missing_recent_months`).

    Returns:
        One finding per problem: unknown references (SKU, rep, resource, team, family), months
        missing from the history, a stale export, rows dated after the period.
    """
    out: list[Finding] = []
    sales_all = typed.get("sales")
    dated = period_start is not None and sales_all is not None and "date" in sales_all.columns
    detached = None
    if dated:
        detached = _history_reach(out, sales_all, period_start, allow_missing_recent_months)
    _reference_checks(out, typed)
    history = sales_all[sales_all["date"] < period_start] if dated else sales_all  # gaps: in the history only
    _missing_month_checks(out, typed, history)
    opp = typed.get("opportunities")
    if opp is not None and "stage" in opp.columns:
        is_open = _stage_checks(out, opp)
        _deal_field_checks(out, opp, is_open)
    if period_start is not None:
        _after_period_checks(out, typed, period_start, detached)
    return out


def _reference_checks(out: list, typed: dict) -> None:
    """Unknown SKUs, reps, resources, teams and families: values missing from the table they refer to."""
    for table in ("sales", "inventory", "supply"):
        _references(out, typed, table, "sku", "products", "sku", "error", "SKU")
    _references(out, typed, "opportunities", "sku", "products", "sku", "warning", "SKU")
    _references(out, typed, "opportunities", "rep", "reps", "rep", "error", "rep")
    _references(out, typed, "quotas", "rep", "reps", "rep", "error", "rep")
    _references(out, typed, "products", "resource", "capacity", "resource", "error", "resource")
    _references(out, typed, "survey", "team", "reps", "team", "warning", "team")
    _references(out, typed, "budget", "family", "products", "family", "warning", "family")


def _missing_month_checks(out: list, typed: dict, history: pd.DataFrame | None) -> None:
    """Months missing inside the sales history, the capacity of a resource or the budget of a family."""
    _missing_months(
        out,
        history,
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


def _stage_checks(out: list, opp: pd.DataFrame) -> pd.Series:
    """Normalise the deal stages in place, flag unknown ones and return which deals are open."""
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
    return opp["stage"].isin(OPEN_STAGES)


def _deal_field_checks(out: list, opp: pd.DataFrame, is_open: pd.Series) -> None:
    """Warnings for deals without a close date, amount, created date or account, or closing too early."""
    empty = pd.Series("empty", index=opp.index)
    checks = []  # column, rows, message, values, check
    if "close_date" in opp.columns:
        no_close = opp["close_date"].isna()
        checks.append(
            ("close_date", is_open & no_close, "open deal has no close date", empty, "open_no_close")
        )
        closed = ~is_open & opp["stage"].isin(STAGES) & no_close
        checks.append(("close_date", closed, "closed deal has no close date", empty, "closed_no_close"))
    if "amount" in opp.columns:
        no_amount = opp["amount"].isna()
        checks.append(("amount", no_amount & is_open, "open deal has no amount", empty, "open_no_amount"))
        won = no_amount & (opp["stage"] == "won")
        checks.append(("amount", won, "won deal has no amount", empty, "won_no_amount"))
    if "created_date" in opp.columns:
        no_created = opp["created_date"].isna()
        checks.append(("created_date", no_created, "deal has no created date", empty, "no_created"))
        if "close_date" in opp.columns:
            early = opp["close_date"] < opp["created_date"]
            shown = opp["close_date"].dt.strftime("%Y-%m-%d")
            checks.append(
                ("close_date", early, "deal closes before it was created", shown, "close_before_created")
            )
    if "account" in opp.columns:
        checks.append(("account", opp["account"].isna(), "deal has no account", empty, "no_account"))
    for column, rows, message, values, check in checks:
        _emit(out, "warning", "opportunities", column, rows, message, values, check)


def _after_period_checks(out: list, typed: dict, period_start: pd.Timestamp, detached) -> None:
    """Warnings for sales dated in or after the period (not detached ones) and answers or deals after it."""
    label = period_start.strftime("%Y-%m")
    after = period_start + pd.offsets.MonthBegin(1)
    checks = []  # table, frame, column, rows, message
    sales = typed.get("sales")
    if sales is not None and "date" in sales.columns:
        late = (sales["date"] >= period_start) & ~detached
        message = f"dated in or after the period {label}; left out of the history"
        checks.append(("sales", sales, "date", late, message))
    survey = typed.get("survey")
    if survey is not None and "date" in survey.columns:
        late = survey["date"] >= after
        checks.append(("survey", survey, "date", late, f"answer dated after the period {label}"))
    opp = typed.get("opportunities")
    if opp is not None and "created_date" in opp.columns:
        late = opp["created_date"] >= after
        checks.append(("opportunities", opp, "created_date", late, f"deal created after the period {label}"))
    for table, frame, column, late, message in checks:
        dates = frame[column].dt.strftime("%Y-%m-%d")
        _emit(out, "warning", table, column, late, message, dates, "after_period")


def _history_reach(out: list, sales: pd.DataFrame, period_start: pd.Timestamp, allowed: int) -> pd.Series:
    """History must reach the month before the period (less `allowed` months); sales dated after the
    period and cut off from the rest by a month without any sales (a mistyped year) are errors, one
    per row. Returns the mask of those rows."""
    months = sales["date"].dt.to_period("M")
    period = period_start.to_period("M")
    label, need = str(period), period - 1 - allowed
    history = months[months < period].dropna()
    if history.empty:
        first = months.dropna().min() if months.notna().any() else None
        out.append(
            Finding(
                "error",
                "sales",
                "date",
                None,
                f"no sales before the period {label}"
                + (f" (the first sale is in {first})" if first is not None else "")
                + f"; history must reach {period - 1}: run a later period or export the history",
                None,
                "stale",
            )
        )
    elif history.max() < need:
        last = history.max()
        short = (period - 1).ordinal - last.ordinal
        out.append(
            Finding(
                "error",
                "sales",
                "date",
                None,
                f"history ends in {last}, {short} month(s) short of {period - 1}, the month before the "
                f"period {label}; the export looks stale: export sales through {period - 1}, run an "
                f"earlier period, or allow missing recent months with data.allow_missing_recent_months "
                f"(now {allowed})",
                str(last),
                "stale",
            )
        )
    present = set(months.dropna().unique())
    reach = period + 1
    while reach in present:
        reach += 1
    detached = (months >= reach).fillna(False).astype(bool)
    for i in _rows(detached):
        out.append(
            Finding(
                "error",
                "sales",
                "date",
                int(i) + 1,
                f"dated after the period {label}, beyond the last month with sales; fix the date "
                f"(a mistyped year?) or run the period it belongs to",
                sales["date"].iloc[i].strftime("%Y-%m-%d"),
                "after_period",
            )
        )
    return pd.Series(np.asarray(detached), index=sales.index)


def parse_tables(
    raw: dict,
    period_start: pd.Timestamp | None,
    max_text_chars: int = MAX_TEXT_CHARS,
    allow_missing_recent_months: int = 0,
    steps=None,
) -> tuple[dict[str, pd.DataFrame | None], list[Finding]]:
    """Validate every table: source problems, then per-table checks, then checks between tables.

    `max_text_chars` and `allow_missing_recent_months` are `data.*` params of the same names;
    `steps` (params `steps`) limits what is required to what those steps need (`scope`).

    Args:
        raw: The tables as read (`RawTable`s from `read_source`), by name.
        period_start: The first day of the period, or None to skip the checks against the period.
        max_text_chars: The longest text allowed in a cell.
        allow_missing_recent_months: How many months before the period the sales history may lack.
        steps: The step names run; None = every step.

    Returns:
        `(typed, findings)`: every contract table typed (None when missing or unusable), and the
        findings as they matter to `steps`.
    """
    findings: list[Finding] = []
    typed: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        item = raw.get(name)
        frame = None if item is None else item.frame
        if item is not None:
            findings.extend(item.findings)
        parsed, problems = parse_table(name, frame, max_text_chars)
        typed[name] = parsed
        findings.extend(problems)
    findings.extend(cross_checks(typed, period_start, allow_missing_recent_months))
    history = typed.get("opportunity_history")
    if history is not None and "stage" in history.columns:
        history["stage"] = history["stage"].map(_normalise_stage)
    return typed, scope(findings, steps)


def scope(findings: list[Finding], steps=None) -> list[Finding]:
    """Findings as they matter to the steps a company runs (params `steps`).

    A missing table or column that no listed step needs is no finding; a missing table a listed step
    only uses when present is a warning; errors in a table no listed step reads become warnings. A
    table a listed step needs stays an error when missing, so a broken feed is never skipped silently.

    Args:
        findings: Every finding.
        steps: The step names run; None = every step.

    Returns:
        The findings kept, with their severity for these steps.
    """
    required, optional = needed(steps)
    out = []
    for f in findings:
        table = f.table
        if table not in TABLES:
            out.append(f)
        elif f.check == "missing_table" and table not in required:
            if table in optional and table not in ("accounts", "opportunity_history"):
                note = f"{f.message} (optional for the steps run)"
                out.append(replace(f, severity="warning", message=note))
        elif f.check == "missing_column" and f.column and not column_needed(table, f.column, steps):
            continue
        elif f.is_error and (
            (table not in required and table not in optional)
            or (table in optional and f.check in ("missing_column", "no_rows"))
        ):
            out.append(replace(f, severity="warning"))
        else:
            out.append(f)
    return out
