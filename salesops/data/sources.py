"""Reading the input tables from where they live: a folder of files, a DuckDB file or a database URL.

Raw inputs are only read, never written. Table-level problems a planner can fix (a missing table,
an empty file, a file that is not UTF-8) come back as findings; a source that cannot be opened at
all raises `DataError`. The database password comes from an environment variable and appears in no
message, log or repr.

Example:
    >>> import salesops as so
    >>> p = so.params.load(period="2026-11", out="/tmp/so-doc")
    >>> tables = load_tables(p)
    >>> sorted(tables)[:2]
    ['budget', 'capacity']
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..exceptions import DataError
from .contract import TABLE_NAMES
from .findings import Finding

FILE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xlsx", ".xls")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")


@dataclass
class RawTable:
    """One table as read from the source, before validation (mappings applied)."""

    name: str
    frame: pd.DataFrame | None
    origin: str
    modified: dt.datetime | None = None
    findings: list[Finding] = field(default_factory=list)


def source_kind(source: str | None) -> str:
    """`demo`, `url`, `folder`, `duckdb` or `workbook`; raises `DataError` when the path does not exist.

    Example:
        >>> source_kind("postgresql+psycopg2://u@localhost/db")
        'url'
    """
    if source is None:
        return "demo"
    if "://" in source:
        return "url"
    path = Path(source)
    if path.is_dir():
        return "folder"
    if path.is_file() and path.suffix.lower() in DUCKDB_SUFFIXES:
        return "duckdb"
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xls"):
        return "workbook"
    if path.exists():
        raise DataError(
            f"data source '{source}' is neither a folder, a DuckDB file (.duckdb) nor an Excel "
            f"workbook; point data.source (or --data) at one of those or at an SQLAlchemy URL"
        )
    raise DataError(
        f"data source '{source}' does not exist; point data.source (or --data) at a folder of "
        f"<table>.csv files, a .duckdb file or an SQLAlchemy URL such as "
        f"postgresql+psycopg2://user@host/db"
    )


def _mapping(p, table: str):
    return p.data.tables.get(table)


def source_name(p, table: str) -> str:
    m = _mapping(p, table)
    return m.source if m is not None and m.source else table


def apply_mapping(frame: pd.DataFrame, mapping) -> pd.DataFrame:
    """Rename columns (`columns:`) and recode values (`values:`) of one table; returns a new frame.

    Example:
        >>> from salesops.params import TableMapping
        >>> m = TableMapping(columns={"deal_stage": "stage"}, values={"stage": {"Won": "won"}})
        >>> apply_mapping(pd.DataFrame({"deal_stage": ["Won", "Lost"]}), m)["stage"].tolist()
        ['won', 'Lost']
    """
    frame = frame.rename(columns=lambda c: str(c).strip().lstrip("\ufeff"))
    if mapping is None:
        return frame
    if mapping.columns:
        frame = frame.rename(columns=mapping.columns)
    for column, recode in mapping.values.items():
        target = mapping.columns.get(column, column)
        if target in frame.columns:
            frame[target] = frame[target].map(lambda v, r=recode: r.get(v, v) if isinstance(v, str) else v)
    return frame


# ---------------------------------------------------------------- files
def _find_file(folder: Path, name: str) -> Path | None:
    direct = folder / name
    if direct.is_file() and any(name.lower().endswith(s) for s in FILE_SUFFIXES):
        return direct
    for suffix in FILE_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _encoding_problem(path: Path, table: str) -> Finding:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    try:
        data.decode("utf-8")
        start, bad = 0, b""
    except UnicodeDecodeError as exc:
        start, bad = exc.start, data[exc.start : exc.start + 1]
    line = data[:start].count(b"\n")  # header is line 1, so data row = newlines before the byte
    return Finding(
        "error",
        table,
        None,
        line or None,
        f"file {path.name} is not UTF-8 text (byte 0x{bad.hex()}); save it as UTF-8 (in Excel: CSV UTF-8)",
        None,
        "encoding",
    )


def read_file(path: Path, table: str) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Read one CSV/Parquet/Excel file; text files are read as text so validation sees every value."""
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(path), []
        if name.endswith((".xlsx", ".xls")):
            return pd.read_excel(path, dtype=str, keep_default_na=False), []
        if path.stat().st_size == 0:
            return None, [
                Finding(
                    "error",
                    table,
                    None,
                    None,
                    f"file {path.name} is empty (not even a header line); export it again with a header row",
                    None,
                    "empty_file",
                )
            ]
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8", skipinitialspace=False
        ), []
    except UnicodeDecodeError:
        return None, [_encoding_problem(path, table)]
    except pd.errors.EmptyDataError:
        return None, [
            Finding(
                "error",
                table,
                None,
                None,
                f"file {path.name} is empty (not even a header line); export it again with a header row",
                None,
                "empty_file",
            )
        ]
    except pd.errors.ParserError as exc:
        return None, [
            Finding(
                "error",
                table,
                None,
                None,
                f"file {path.name} is not valid CSV ({str(exc).strip()}); check quoting and delimiters",
                None,
                "bad_csv",
            )
        ]
    except (OSError, ValueError, ImportError) as exc:
        return None, [
            Finding(
                "error",
                table,
                None,
                None,
                f"file {path.name} cannot be read ({exc}); export it again",
                None,
                "unreadable",
            )
        ]


def _missing(table: str, where: str, source_table: str) -> Finding:
    return Finding(
        "error",
        table,
        None,
        None,
        f"table is missing from {where}; add {source_table} or name the source table in "
        f"data.tables.{table}.source",
        None,
        "missing_table",
    )


def _read_folder(p, folder: Path) -> dict[str, RawTable]:
    out = {}
    for table in TABLE_NAMES:
        name = source_name(p, table)
        path = _find_file(folder, name)
        if path is None:
            out[table] = RawTable(
                table, None, str(folder / name), None, [_missing(table, f"folder {folder}", f"{name}.csv")]
            )
            continue
        frame, problems = read_file(path, table)
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
        out[table] = RawTable(table, frame, str(path), modified, problems)
    return out


def _read_workbook(p, path: Path) -> dict[str, RawTable]:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    except (OSError, ValueError, ImportError) as exc:
        raise DataError(f"Excel workbook '{path}' cannot be read ({exc}); save it again as .xlsx") from None
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    out = {}
    for table in TABLE_NAMES:
        name = source_name(p, table)
        if name in sheets:
            out[table] = RawTable(table, sheets[name], f"{path}[{name}]", modified)
        else:
            out[table] = RawTable(
                table,
                None,
                f"{path}[{name}]",
                None,
                [_missing(table, f"workbook {path.name}", f"a sheet named {name}")],
            )
    return out


# ---------------------------------------------------------------- databases
def _quote(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _read_duckdb(p, path: str) -> dict[str, RawTable]:
    import duckdb

    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise DataError(
            f"DuckDB file '{path}' cannot be opened ({exc}); check that it is a DuckDB database "
            f"and not open for writing by another program"
        ) from None
    modified = dt.datetime.fromtimestamp(Path(path).stat().st_mtime, dt.timezone.utc)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        present |= {
            f"{r[0]}.{r[1]}"
            for r in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        }
        out = {}
        for table in TABLE_NAMES:
            name = source_name(p, table)
            if name not in present:
                out[table] = RawTable(
                    table,
                    None,
                    f"{path}:{name}",
                    None,
                    [_missing(table, f"DuckDB file {path}", f"a table named {name}")],
                )
                continue
            frame = con.sql(f"SELECT * FROM {_quote(name)}").to_arrow_table().to_pandas()
            out[table] = RawTable(table, frame, f"{path}:{name}", modified)
        return out
    finally:
        con.close()


def database_url(p):
    """The SQLAlchemy URL of `p.data.source` with the password from `p.data.password_env` inserted.

    Raises `DataError` when the URL itself carries a password (it belongs in the environment).
    """
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(p.data.source)
    except sa.exc.ArgumentError:
        raise DataError(
            f"data source '{_redact(p.data.source)}' is not a valid SQLAlchemy URL; write it like "
            f"postgresql+psycopg2://user@host:5432/database"
        ) from None
    if url.password:
        raise DataError(
            f"data source {url.render_as_string(hide_password=True)} contains a password; remove it "
            f"from the URL and put it in the environment variable {p.data.password_env}"
        )
    password = os.environ.get(p.data.password_env)
    return url.set(password=password) if password and url.username else url  # no user, no password


def _redact(text: str, secret: str | None = None) -> str:
    import re

    text = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", str(text))
    if secret:
        text = text.replace(secret, "***")
    return text


def _read_url(p) -> dict[str, RawTable]:
    import sqlalchemy as sa

    url = database_url(p)
    safe = url.render_as_string(hide_password=True)
    secret = url.password
    try:
        engine = sa.create_engine(url)
        with engine.connect() as con:
            inspector = sa.inspect(con)
            out = {}
            for table in TABLE_NAMES:
                name = source_name(p, table)
                schema, _, bare = name.rpartition(".")
                if not inspector.has_table(bare, schema=schema or None):
                    out[table] = RawTable(
                        table,
                        None,
                        f"{safe} table {name}",
                        None,
                        [_missing(table, f"database {safe}", f"a table named {name}")],
                    )
                    continue
                meta = sa.Table(bare, sa.MetaData(), schema=schema or None, autoload_with=con)
                frame = pd.read_sql(sa.select(meta), con)
                out[table] = RawTable(table, frame, f"{safe} table {name}", None)
        engine.dispose()
        return out
    except sa.exc.SQLAlchemyError as exc:
        reason = _redact(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], secret)
        raise DataError(
            f"cannot read the database {safe}: {reason}. Check host, port, database name and user, "
            f"and that the environment variable {p.data.password_env} holds the password"
        ) from None


# ---------------------------------------------------------------- entry points
def read_source(p) -> dict[str, RawTable]:
    """Every contract table as read from `p.data.source` (or the demo company), mappings applied."""
    from .demo import demo_source

    kind = source_kind(p.data.source)
    if kind == "demo":
        raw = _read_duckdb(p, demo_source(p))
    elif kind == "duckdb":
        raw = _read_duckdb(p, p.data.source)
    elif kind == "folder":
        raw = _read_folder(p, Path(p.data.source))
    elif kind == "workbook":
        raw = _read_workbook(p, Path(p.data.source))
    else:
        raw = _read_url(p)
    for table, item in raw.items():
        if item.frame is not None:
            item.frame = apply_mapping(item.frame, _mapping(p, table))
    return raw


def load_tables(p) -> dict[str, pd.DataFrame]:
    """Every contract table found in the source, as read (columns renamed and values recoded by params).

    Tables the source lacks are left out; `check(p)` reports them. Raises `DataError` only when the
    source cannot be opened.

    Example:
        >>> import salesops as so
        >>> load_tables(so.params.load(period="2026-11", out="/tmp/so-doc"))["products"].columns[0]
        'sku'
    """
    return {name: item.frame for name, item in read_source(p).items() if item.frame is not None}


def describe_source(p) -> str:
    """A printable description of the source, never holding a password."""
    kind = source_kind(p.data.source)
    if kind == "demo":
        return f"the demo company (seed {p.demo.seed}, {p.demo.skus} SKUs, {p.demo.months} months)"
    if kind == "url":
        return database_url(p).render_as_string(hide_password=True)
    return str(p.data.source)
