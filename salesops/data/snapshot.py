"""Check, normalise and freeze the inputs of one period (step 1 of the cycle).

`run(ctx)` returns the `Collection`: every normalised table, `demand_history` and `findings` as
products, plus `snapshot.json` (content hash, sources, rows, freshness) for `run.json`, which
`ctx.save` writes under `data_collection`. Saved snapshots are cached by content hash in
`OUT/.cache/snapshots/`; a rerun whose normalised inputs hash the same is marked reused and keeps
the first snapshot's description.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..steps import StepResult
from .contract import TABLES
from .findings import Finding, cap, to_frame
from .sources import describe_source, read_source
from .validate import parse_tables

STEP = "data_collection"
SNAPSHOT_VERSION = 1


@dataclass
class Collection(StepResult):
    """The period snapshot: normalised tables, every finding, the content hash and what was read.

    Attributes:
        tables: The normalised input tables by name.
        findings: Every warning found (errors stop the step before a Collection exists).
        input_hash: The sha256 of the normalised tables and the period.
        sources: Where each table came from (`sources_frame`).
        demand_history: Monthly units per SKU through the month before the period.
        reused: Whether a snapshot with the same hash was saved before.
        snapshot: The description written as `snapshot.json`.
        cache: The snapshot cache folder of this hash (filled once the products are saved).
    """

    tables: dict[str, pd.DataFrame]
    findings: list[Finding]
    input_hash: str
    sources: pd.DataFrame
    demand_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    reused: bool = False
    snapshot: dict = field(default_factory=dict)
    cache: Path | None = None

    @property
    def errors(self) -> list[Finding]:
        """The findings that are errors."""
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that are warnings."""
        return [f for f in self.findings if not f.is_error]

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """Every normalised table, `demand_history` and `findings`, by name."""
        return dict(self.tables, demand_history=self.demand_history, findings=to_frame(self.findings))

    @property
    def metadata(self) -> dict[str, dict]:
        """`snapshot.json`: the content hash, sources, rows and counts of findings."""
        return {"snapshot": self.snapshot}

    def saved(self, store) -> None:
        """Fill the snapshot cache from the saved products (first save of this hash only).

        Args:
            store: The `StepStore` the products were written to.
        """
        if self.cache is not None and not self.reused:
            _fill_cache(self.cache, store.data_dir / STEP, self.products, self.snapshot)


def _period_start(p) -> pd.Timestamp | None:
    return p.period_start if p.period else None


def _check_all(p):
    raw = read_source(p)
    typed, findings = parse_tables(
        raw,
        _period_start(p),
        max_text_chars=p.data.max_text_chars,
        allow_missing_recent_months=p.data.allow_missing_recent_months,
        steps=p.steps,
    )
    return raw, typed, findings


def check(p) -> list[Finding]:
    """Load and validate every input table; one finding per problem, capped per check.

    Never raises for bad data.

    Args:
        p: The validated parameters (`p.data` names the source and caps the findings).

    Returns:
        Every finding, at most `p.data.max_problems` per check.

    Raises:
        DataError: The source cannot be opened.

    Example:
        >>> import salesops as so
        >>> [str(f) for f in check(so.params.load(period="2026-11", out="/tmp/so-doc")) if f.is_error]
        []
    """
    _, _, findings = _check_all(p)
    return cap(findings, p.data.max_problems)


def error_message(findings: list[Finding], max_problems: int) -> str:
    """The message of the `DataError` that stops a run: how many errors, what to do, each error.

    Args:
        findings: Every finding (warnings are left out).
        max_problems: How many errors of each check to list.

    Returns:
        The message, one error per line after the first.

    Example:
        >>> error_message([Finding("error", "sales", "quantity", 6, "negative value", -40)], 10).splitlines()[0]
        'the input data has 1 error(s); fix them in the source (or map columns and values in params data.tables) and run again:'
    """
    errors = [f for f in findings if f.is_error]
    lines = [str(f) for f in cap(errors, max_problems)]
    return (
        f"the input data has {len(errors)} error(s); fix them in the source (or map columns and values in "
        f"params data.tables) and run again:\n" + "\n".join(lines)
    )


# ---------------------------------------------------------------- normalisation
def normalise(typed: dict[str, pd.DataFrame], period_start: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Contract tables as later steps use them: months at month start, sales as monthly totals per SKU
    through the month before the period, stages normalised (done during validation).

    Args:
        typed: The validated tables by name, with their contract types.
        period_start: The first day of the period: sales from it on are left out.

    Returns:
        The normalised tables by name.
    """
    out = {}
    for name, frame in typed.items():
        if frame is None:  # a table no step run needs, or an optional one: empty, with its columns
            frame = empty_table(name)
        frame = frame.copy().reset_index(drop=True)
        if name == "sales":
            frame = frame[frame["date"] < period_start]
            frame["month"] = frame["date"].dt.to_period("M").dt.to_timestamp()
            measures = [c for c in ("quantity", "revenue") if c in frame.columns]
            # text columns that belong to the SKU (family, description) survive the monthly totals
            extras = [
                c
                for c in frame.columns
                if c not in ("date", "month", "sku", "quantity", "revenue", "customer", "region")
                and not pd.api.types.is_numeric_dtype(frame[c])
            ]
            constant = (
                frame.groupby("sku")[extras].nunique(dropna=False).max() if extras else pd.Series(dtype=int)
            )
            kept = [c for c in extras if constant.get(c, 2) <= 1]
            grouped = frame.groupby(["sku", "month"], sort=True)
            frame = grouped[measures].sum(min_count=1)
            if kept:
                frame = frame.join(grouped[kept].first())
            frame = frame.reset_index()
            frame.insert(0, "date", frame["month"])
            frame = frame[
                ["date", "month", "sku"] + [c for c in frame.columns if c not in ("date", "month", "sku")]
            ]
        elif name == "survey":
            frame["month"] = frame["date"].dt.to_period("M").dt.to_timestamp()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].astype("datetime64[ns]")
            elif pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column]):
                text = frame[column].astype("str").str.strip().replace("", np.nan)
                if (
                    TABLES[name].column(column) is None
                ):  # extra columns read as text become numbers when they are
                    numbers = pd.to_numeric(text, errors="coerce")
                    if text.notna().any() and numbers.notna().sum() == text.notna().sum():
                        frame[column] = numbers.astype(float)
                        continue
                frame[column] = text
            elif pd.api.types.is_integer_dtype(frame[column]):
                frame[column] = frame[column].astype(float)
        key = [k for k in TABLES[name].key if k in frame.columns]
        if key and name != "sales":  # a source's row order means nothing: the snapshot is in key order
            frame = frame.sort_values(key, kind="stable")
        out[name] = frame.reset_index(drop=True)
    return out


def empty_table(name: str) -> pd.DataFrame:
    """A table of the contract without rows: its required columns, typed.

    Args:
        name: The table's name.

    Returns:
        The empty frame (dates as datetime64, numbers as float, texts as object).

    Example:
        >>> list(empty_table("quotas").columns)
        ['rep', 'month', 'quota']
    """
    kinds = {"date": "datetime64[ns]", "month": "datetime64[ns]", "number": float, "text": object}
    return pd.DataFrame({c.name: pd.Series(dtype=kinds[c.kind]) for c in TABLES[name].columns if c.required})


def demand_history(sales: pd.DataFrame, period_start: pd.Timestamp) -> pd.DataFrame:
    """Monthly units per SKU (`unique_id, ds, y`) from each SKU's first sale through the month before
    the period, months without sales filled with 0.

    Args:
        sales: The normalised sales (`sku, month, quantity`).
        period_start: The first day of the period.

    Returns:
        The demand history `unique_id, ds, y`, one row per SKU and month.

    Example:
        >>> s = pd.DataFrame({"sku": ["A", "A"], "month": pd.to_datetime(["2026-01-01", "2026-03-01"]),
        ...                   "quantity": [5.0, 2.0]})
        >>> demand_history(s, pd.Timestamp("2026-05-01"))["y"].tolist()
        [5.0, 0.0, 2.0, 0.0]
    """
    last = period_start - pd.offsets.MonthBegin(1)
    monthly = sales.groupby(["sku", "month"])["quantity"].sum()
    if monthly.empty:
        return pd.DataFrame(
            {
                "unique_id": pd.Series(dtype="str"),
                "ds": pd.Series(dtype="datetime64[ns]"),
                "y": pd.Series(dtype=float),
            }
        )
    first = monthly.reset_index().groupby("sku")["month"].min()
    months = pd.date_range(first.min(), last, freq="MS")
    grid = pd.MultiIndex.from_product([first.index, months], names=["sku", "month"])
    full = monthly.reindex(grid, fill_value=0).reset_index()
    full = full[full["month"] >= full["sku"].map(first)]
    return pd.DataFrame(
        {
            "unique_id": full["sku"].astype("str").to_numpy(),
            "ds": full["month"].astype("datetime64[ns]").to_numpy(),
            "y": full["quantity"].astype(float).to_numpy(),
        }
    )


def content_hash(tables: dict[str, pd.DataFrame], period: str | None) -> str:
    """SHA-256 over the normalised tables (names, columns, types, values) and the period.

    Args:
        tables: The normalised tables by name.
        period: The period, or None.

    Returns:
        The hex digest: equal tables and period, equal hash.

    Example:
        >>> t = {"products": pd.DataFrame({"sku": ["A"]})}
        >>> content_hash(t, "2026-11") == content_hash(dict(t), "2026-11") != content_hash(t, "2026-12")
        True
    """
    h = hashlib.sha256(f"salesops-snapshot-v{SNAPSHOT_VERSION}|{period}".encode())
    for name in sorted(tables):
        frame = tables[name]
        h.update(f"|{name}|{list(frame.columns)}|{[str(t) for t in frame.dtypes]}".encode())
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def sources_frame(raw: dict, typed: dict) -> pd.DataFrame:
    """What was read: table, origin, rows, columns, file time, and the first and last date in it.

    Args:
        raw: The tables as read from the source (`RawTable`s) by name.
        typed: The validated tables by name.

    Returns:
        One row per contract table: `table, origin, rows, columns, modified, first, last`.
    """
    rows = []
    for name, spec in TABLES.items():
        item = raw.get(name)
        frame = typed.get(name)
        date_cols = [
            c.name
            for c in spec.columns
            if c.kind in ("date", "month") and frame is not None and c.name in frame.columns
        ]
        first = last = pd.NaT
        if date_cols:
            col = frame[date_cols[0]]  # opportunities: created_date, the date a fresh export moves
            first, last = col.min(), col.max()
        rows.append(
            {
                "table": name,
                "origin": item.origin if item else "",
                "rows": 0 if item is None or item.frame is None else len(item.frame),
                "columns": 0 if item is None or item.frame is None else item.frame.shape[1],
                "modified": (
                    pd.Timestamp(item.modified).tz_convert(None)
                    if item is not None and item.modified
                    else pd.NaT
                ),
                "first": first,
                "last": last,
            }
        )
    frame = pd.DataFrame(rows)
    frame["modified"] = pd.to_datetime(frame["modified"]).astype("datetime64[ns]")
    frame["first"] = pd.to_datetime(frame["first"]).astype("datetime64[ns]")
    frame["last"] = pd.to_datetime(frame["last"]).astype("datetime64[ns]")
    return frame


# ---------------------------------------------------------------- the step
def snapshot(p) -> Collection:
    """Load, validate and normalise the period's inputs; nothing is written.

    Args:
        p: The validated parameters (`salesops.params.load`) with a period.

    Returns:
        The period's `Collection`.

    Raises:
        DataError: The inputs break the data contract; `findings` holds one entry per problem.
    """
    if p.period is None:
        raise DataError("collect needs a period (YYYY-MM): history runs through the month before it")
    period_start = p.period_start
    raw, typed, findings = _check_all(p)
    if any(f.is_error for f in findings):
        raise DataError(error_message(findings, p.data.max_problems), findings)
    tables = normalise(typed, period_start)
    history = demand_history(tables["sales"], period_start)
    input_hash = content_hash(tables, p.period)
    sources = sources_frame(raw, typed)
    names = [*tables, "demand_history", "findings"]
    cache = Path(p.out) / ".cache" / "snapshots" / input_hash
    reused = (cache / "snapshot.json").exists() and all((cache / f"{n}.parquet").exists() for n in names)
    if reused:
        meta = json.loads((cache / "snapshot.json").read_text()) | {"reused": True}
    else:
        meta = {
            "input_hash": input_hash,
            "period": p.period,
            "source": describe_source(p),
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "rows": {
                **{n: len(f) for n, f in tables.items()},
                "demand_history": len(history),
                "findings": len(findings),
            },
            "errors": sum(f.is_error for f in findings),
            "warnings": sum(not f.is_error for f in findings),
            "sources": json.loads(sources.to_json(orient="records", date_format="iso")),
        }
    return Collection(tables, findings, input_hash, sources, history, reused, meta, cache)


def run(ctx) -> Collection:
    """Step 1: load, validate, normalise and freeze the period's inputs.

    Args:
        ctx: The data collection step's context.

    Returns:
        The `Collection`; `ctx.save(collection)` writes every table, `demand_history`, `findings`
        and `snapshot.json`.

    Raises:
        DataError: The inputs break the data contract (nothing is written then).

    Example:
        >>> import salesops as so
        >>> p = so.params.load(period="2026-11", out="/tmp/so-doc")
        >>> ctx = so.steps.context("data_collection", p)
        >>> collection = run(ctx)
        >>> ctx.save(collection)
        >>> collection.tables["sales"]["month"].max()
        Timestamp('2026-10-01 00:00:00')
    """
    return snapshot(ctx.p)


def collect(p, store) -> Collection:
    """Step 1 outside a notebook: `snapshot(p)`, then write its products into `store`.

    Args:
        p: The validated parameters with a period.
        store: The `StepStore` of the run.

    Returns:
        The period's `Collection`.

    Raises:
        DataError: The inputs break the data contract (nothing is written then).

    Example:
        >>> import salesops as so
        >>> p = so.params.load(period="2026-11", out="/tmp/so-doc")
        >>> c = collect(p, so.store.StepStore("/tmp/so-doc/2026-11"))
        >>> c.tables["sales"]["month"].max()
        Timestamp('2026-10-01 00:00:00')
    """
    collection = snapshot(p)
    for name, frame in collection.products.items():
        store.write(STEP, name, frame)
    for name, content in collection.metadata.items():
        store.write_json(STEP, name, content)
    collection.saved(store)
    return collection


def _fill_cache(cache: Path, written: Path, products: dict, meta: dict) -> None:
    """Copy the written products into the snapshot cache through a temporary folder (atomic rename)."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{cache.name}.", dir=cache.parent))
    try:
        for name in products:
            shutil.copyfile(written / f"{name}.parquet", tmp / f"{name}.parquet")
        (tmp / "snapshot.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        os.replace(tmp, cache)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process filled it first; ours is identical
