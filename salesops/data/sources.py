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

import csv
import datetime as dt
import gzip
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..exceptions import DataError
from .contract import TABLE_NAMES
from .findings import Finding

FILE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xlsx", ".xls")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
CONNECT_TIMEOUT_S = (
    60  # PostgreSQL: give up on a server that does not answer (connect_timeout in the URL wins)
)


@dataclass
class RawTable:
    """One table as read from the source, before validation (mappings applied).

    Attributes:
        name: The contract table's name.
        frame: The table as read, or None when it could not be read (its findings say why).
        origin: Where it was read from, for messages: a file path, `file.xlsx[sheet]`,
            `file.duckdb:table` or the database's table (its URL without password).
        modified: When the source was last changed (UTC), when known.
        findings: Problems found while reading it (a missing table, an empty or unreadable file).
    """

    name: str
    frame: pd.DataFrame | None
    origin: str
    modified: dt.datetime | None = None
    findings: list[Finding] = field(default_factory=list)


def source_kind(source: str | None) -> str:
    """`demo`, `url`, `folder`, `duckdb` or `workbook`; raises `DataError` when the path does not exist.

    Args:
        source: `data.source`: a folder, a DuckDB file, an Excel workbook, an SQLAlchemy URL, or None
            for the demo company.

    Returns:
        The kind of source: `demo`, `url`, `folder`, `duckdb` or `workbook`.

    Raises:
        DataError: The path does not exist, or is a file of none of those kinds.

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
    """The name a contract table has in the source: its params `source` mapping, else its own name.

    Args:
        p: The parameters.
        table: The contract table.

    Returns:
        The table, sheet or file name to read.
    """
    m = _mapping(p, table)
    return m.source if m is not None and m.source else table


def table_file(p, table: str) -> Path | None:
    """The file a table is read from when its `source` is a path to a file rather than a table name.

    A relative path counts from the folder of the params file that names it (`params.load` makes it
    absolute), so a quota file kept beside the params is found from anywhere.

    Args:
        p: The parameters.
        table: The contract table.

    Returns:
        The file, or None when the source is a table name (read from the data source as usual).
    """
    m = _mapping(p, table)
    if m is None or not m.source or not m.source.lower().endswith(FILE_SUFFIXES):
        return None
    path = Path(m.source)
    return path if path.is_file() else None


def apply_mapping(frame: pd.DataFrame, mapping) -> pd.DataFrame:
    """Rename columns (`columns:`) and recode values (`values:`) of one table; returns a new frame.

    Column names are stripped of spaces and of a byte order mark first.

    Args:
        frame: The table as read.
        mapping: The table's params mapping (a `TableMapping`), or None for no renaming or recoding.

    Returns:
        The renamed and recoded table.

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
HEADER_SCAN = 20  # lines searched for a header that is not on line 1
OTHER_DELIMITERS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}
csv.field_size_limit(64 * 1024 * 1024)  # long texts are refused by validation, with the row named


def _candidates(folder: Path, name: str) -> list[Path]:
    found = []
    direct = folder / name
    if direct.is_file() and name.lower().endswith(FILE_SUFFIXES):
        found.append(direct)
    for suffix in FILE_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file() and candidate not in found:
            found.append(candidate)
    return found


def _find_file(folder: Path, name: str) -> Path | None:
    found = _candidates(folder, name)
    return found[0] if found else None


def _problem(table: str, message: str, check: str, row: int | None = None, value=None, column=None):
    return Finding("error", table, column, row, message, value, check)


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


def _empty_file(path: Path, table: str) -> Finding:
    return _problem(
        table,
        f"file {path.name} is empty (not even a header line); export it again with a header row",
        "empty_file",
    )


def _known_names(table: str, mapping) -> set[str]:
    from .contract import TABLES

    names = {c.name for c in TABLES[table].columns}
    if mapping is not None:
        names |= set(mapping.columns)
    return {n.strip().lower() for n in names}


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _frame_from_rows(
    rows: list[list[str]], where: str, table: str, mapping, check_fields: bool
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Header and data rows -> a text frame, with header-row, delimiter, field-count and duplicate checks."""
    problems: list[Finding] = []
    lines = [i for i, r in enumerate(rows, start=1) if any(c.strip() for c in r)]  # blank lines skipped
    rows = [rows[i - 1] for i in lines]
    if not rows:
        return None, [
            _problem(table, f"{where} is empty (not even a header line); export it again", "empty_file")
        ]
    known = _known_names(table, mapping)
    header = [c.strip().lstrip("\ufeff").strip() for c in rows[0]]
    if not known & {h.lower() for h in header}:
        if len(header) == 1:
            for delimiter, label in OTHER_DELIMITERS.items():
                if delimiter in header[0]:
                    return None, [
                        _problem(
                            table,
                            f"{where} is separated by {label}, not commas; export it as comma-separated "
                            f"CSV (in Excel: CSV UTF-8 (Comma delimited))",
                            "delimiter",
                            value=header[0],
                        )
                    ]
        for k, row in enumerate(rows[1:HEADER_SCAN], start=1):
            if len(known & {c.strip().lower() for c in row}) >= 2:
                above = " | ".join(c for c in rows[0] if c.strip())
                line = lines[k]
                return None, [
                    _problem(
                        table,
                        f"{where}: the header is on line {line}, not line 1 (line {lines[0]} holds a title "
                        f"or note); delete the {line - 1} line(s) above the header",
                        "header_row",
                        value=above,
                    )
                ]
    width = len(header)
    if check_fields:
        for n, row in enumerate(rows[1:], start=1):
            if len(row) != width:
                problems.append(
                    _problem(
                        table,
                        f"{len(row)} fields where the header has {width}; check the delimiters and "
                        f"quote texts that hold a comma",
                        "field_count",
                        row=n,
                        value=",".join(row),
                    )
                )
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    names = [h or f"unnamed_{i + 1}" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    keep = []
    for i, h in enumerate(names):
        if h in seen:
            problems.append(
                _problem(
                    table,
                    f"{where} has the column '{h}' twice (columns {seen[h] + 1} and {i + 1}); keep one",
                    "duplicate_column",
                    column=h,
                )
            )
            continue
        seen[h] = i
        keep.append(i)
    frame = pd.DataFrame([[r[i] for i in keep] for r in body], columns=[names[i] for i in keep], dtype=object)
    if not body:
        frame = pd.DataFrame({names[i]: pd.Series(dtype=object) for i in keep})
    return frame, problems


def _read_csv(path: Path, table: str, mapping) -> tuple[pd.DataFrame | None, list[Finding]]:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    if not data.strip():
        return None, [_empty_file(path, table)]
    text = data.decode("utf-8")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return None, [
            _problem(
                table, f"file {path.name} is not valid CSV ({exc}); check quoting and delimiters", "bad_csv"
            )
        ]
    return _frame_from_rows(rows, f"file {path.name}", table, mapping, check_fields=True)


def _sheet_rows(frame: pd.DataFrame) -> list[list[str]]:
    return [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def read_file(path: Path, table: str, mapping=None) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Read one CSV/Parquet/Excel file; text files are read as text so validation sees every value.

    Never raises for a bad file: an unreadable, empty, mis-delimited or ragged file is a finding.

    Args:
        path: The file (`.csv`, `.csv.gz`, `.parquet`, `.xlsx` or `.xls`).
        table: The contract table it holds, for the findings and to find its header.
        mapping: The table's params mapping (a `TableMapping`), or None; used to recognise the header.

    Returns:
        `(frame, findings)`: the table (None when it could not be read) and the problems found.
    """
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
            dup = frame.columns[frame.columns.duplicated()]
            if len(dup):
                return frame.loc[:, ~frame.columns.duplicated()], [
                    _problem(
                        table,
                        f"file {path.name} has the column '{dup[0]}' twice; keep one",
                        "duplicate_column",
                        column=str(dup[0]),
                    )
                ]
            return frame, []
        if name.endswith((".xlsx", ".xls")):
            if path.stat().st_size == 0:
                return None, [_empty_file(path, table)]
            sheet = pd.read_excel(path, header=None, dtype=object)
            return _frame_from_rows(_sheet_rows(sheet), f"file {path.name}", table, mapping, False)
        if path.stat().st_size == 0:
            return None, [_empty_file(path, table)]
        return _read_csv(path, table, mapping)
    except UnicodeDecodeError:
        return None, [_encoding_problem(path, table)]
    except Exception as exc:  # noqa: BLE001 - a corrupt file of any kind is the user's to fix
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, [
            _problem(
                table,
                f"file {path.name} cannot be read ({reason[:200]}); check that it is really a "
                f"{path.suffix.lstrip('.') or 'CSV'} file and export it again",
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
        found = _candidates(folder, name)
        if not found:
            out[table] = RawTable(
                table, None, str(folder / name), None, [_missing(table, f"folder {folder}", f"{name}.csv")]
            )
            continue
        if len(found) > 1:
            files = " and ".join(f.name for f in found)
            out[table] = RawTable(
                table,
                None,
                str(found[0]),
                None,
                [
                    _problem(
                        table,
                        f"two files for one table in {folder}: {files}; keep one (move the other away)",
                        "two_files",
                    )
                ],
            )
            continue
        path = found[0]
        frame, problems = read_file(path, table, _mapping(p, table))
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
        out[table] = RawTable(table, frame, str(path), modified, problems)
    return out


def _read_workbook(p, path: Path) -> dict[str, RawTable]:
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except Exception as exc:  # noqa: BLE001 - a corrupt workbook raises zip, XML or value errors
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(
            f"Excel workbook '{path}' cannot be read ({reason}); open it in Excel and save it again as .xlsx"
        ) from None
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    out = {}
    for table in TABLE_NAMES:
        name = source_name(p, table)
        if name in sheets:
            frame, problems = _frame_from_rows(
                _sheet_rows(sheets[name]), f"sheet {name} of {path.name}", table, _mapping(p, table), False
            )
            out[table] = RawTable(table, frame, f"{path}[{name}]", modified, problems)
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

    Args:
        p: The parameters.

    Returns:
        The `sqlalchemy.engine.URL`, with the password when the variable is set and the URL has a user.

    Raises:
        DataError: The URL is not valid, or carries a password or another credential itself.
    """
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(p.data.source)
    except (sa.exc.ArgumentError, ValueError):
        raise DataError(
            f"data source '{_redact(p.data.source)}' is not a valid SQLAlchemy URL; write it like "
            f"postgresql+psycopg2://user@host:5432/database"
        ) from None
    secrets = sorted(k for k in url.query if SECRET_KEY.search(k))
    if secrets:
        raise DataError(
            f"data source {_redact(p.data.source)} carries a credential in its query string "
            f"({', '.join(secrets)}=***); remove it from the URL and put the password in the "
            f"environment variable named by data.password_env ({p.data.password_env})"
        )
    if url.password:
        raise DataError(
            f"data source {url.render_as_string(hide_password=True)} contains a password; remove it "
            f"from the URL and put it in the environment variable {p.data.password_env}"
        )
    password = os.environ.get(p.data.password_env)
    return url.set(password=password) if password and url.username else url  # no user, no password


SECRET_KEY = re.compile(r"pass|pwd|secret|token|api_?key|credential|auth", re.IGNORECASE)


def _redact(text: str, secret: str | None = None) -> str:
    """`text` with the password of a URL and the values of its query string replaced by `***`."""
    text = re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", str(text))
    text = re.sub(r"([?&][^=&\s]+)=[^&\s]*", r"\1=***", text)
    if secret:
        text = text.replace(secret, "***")
    return text


def _read_url(p) -> dict[str, RawTable]:
    import sqlalchemy as sa

    url = database_url(p)
    safe = url.render_as_string(hide_password=True)
    secret = url.password
    try:
        connect_args = {}
        if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S  # a server that never answers
        engine = sa.create_engine(url, connect_args=connect_args)
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
    except ImportError as exc:
        module = getattr(exc, "name", None) or str(exc)
        raise DataError(
            f"the database driver for {url.drivername} is not installed (no module named '{module}'); "
            f"install it in the salesops environment (.venv/bin/pip install {module}) or name an "
            f"installed driver in the URL, e.g. postgresql+psycopg2://user@host/db"
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        reason = _redact(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], secret)
        raise DataError(
            f"cannot read the database {safe}: {reason}. Check host, port, database name and user, "
            f"and that the environment variable {p.data.password_env} holds the password"
        ) from None


# ---------------------------------------------------------------- entry points
def read_source(p) -> dict[str, RawTable]:
    """Every contract table as read from `p.data.source` (or the demo company), mappings applied.

    Args:
        p: The parameters.

    Returns:
        The tables read, by contract name; a table whose source is a file path is read from that file.

    Raises:
        DataError: The source cannot be opened.
    """
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
    for table in TABLE_NAMES:  # a table whose source is a file path (a quota file beside the params)
        path = table_file(p, table)
        if path is not None:
            frame, problems = read_file(path, table, _mapping(p, table))
            modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
            raw[table] = RawTable(table, frame, str(path), modified, problems)
    for table, item in raw.items():
        if item.frame is not None:
            item.frame = apply_mapping(item.frame, _mapping(p, table))
    return raw


def load_tables(p) -> dict[str, pd.DataFrame]:
    """Every contract table found in the source, as read (columns renamed and values recoded by params).

    Tables the source lacks are left out; `check(p)` reports them. Raises `DataError` only when the
    source cannot be opened.

    Args:
        p: The parameters.

    Returns:
        The tables read, by contract name.

    Raises:
        DataError: The source cannot be opened.

    Example:
        >>> import salesops as so
        >>> load_tables(so.params.load(period="2026-11", out="/tmp/so-doc"))["products"].columns[0]
        'sku'
    """
    return {name: item.frame for name, item in read_source(p).items() if item.frame is not None}


def describe_source(p) -> str:
    """A printable description of the source, never holding a password.

    Args:
        p: The parameters.

    Returns:
        The demo company's size, the database URL without its password, or the source's path.
    """
    kind = source_kind(p.data.source)
    if kind == "demo":
        return f"the demo company (seed {p.demo.seed}, {p.demo.skus} SKUs, {p.demo.months} months)"
    if kind == "url":
        return database_url(p).render_as_string(hide_password=True)
    return str(p.data.source)
