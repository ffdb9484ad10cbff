"""A step's products as one Excel workbook, a sheet per product, safe to open in a spreadsheet.

The runner writes `RUN_DIR/<report>.xlsx` beside each step's HTML report (`02_demand_planning.xlsx`
beside `02_demand_planning.html`); the report's banner links it. Text a spreadsheet would run as a
formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is neutralised by
`salesops.safety.neutralise_frame`, and every text cell is written as text (never as a formula, a
link or a number); numbers stay numbers and months stay dates.

The workbook is written with XlsxWriter, cell by cell, which is several times faster than
`DataFrame.to_excel`: in memory when small, else a row at a time to disk (`constant_memory`). Cells hold:

- numbers (Python, NumPy and nullable integers and floats) as numbers; NaN, None, NaT and `pd.NA`
  as empty cells; plus or minus infinity as the text `inf` / `-inf` (as `DataFrame.to_excel` wrote
  it; no cell is ever a formula);
- booleans as booleans;
- datetimes (time zones dropped, keeping the wall-clock time) as Excel dates, formatted
  `yyyy-mm-dd`, or `yyyy-mm-dd hh:mm:ss` when the column has a time of day; `datetime.date` values
  as `yyyy-mm-dd` dates;
- durations as a number of days (as `DataFrame.to_excel` writes them);
- anything else (text, months as `pd.Period`, lists, dicts) as text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from .safety import neutralise_cell, neutralise_frame

__all__ = ["sheet_name", "write_step_workbook", "write_workbook"]

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str] | None = None) -> str:
    """A valid, unique Excel sheet name for a product (31 characters, none of `[]:*?/\\`).

    Args:
        name: The product's name.
        taken: Sheet names already used in the workbook (lower case).

    Returns:
        The sheet name.

    Example:
        >>> sheet_name("inventory_projection")
        'inventory_projection'
    """
    base = _SHEET_FORBIDDEN.sub("_", str(name)).strip("'")[:31] or "sheet"
    taken = taken if taken is not None else set()
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    taken.add(candidate.lower())
    return candidate


def _excel_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns Excel can hold: time zones dropped, lists and dicts as text, text neutralised."""
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_localize(None)
        elif pd.api.types.is_object_dtype(series):
            out[column] = series.map(lambda v: str(v) if isinstance(v, list | dict | tuple | set) else v)
    out.columns = [str(c) for c in out.columns]
    return neutralise_frame(out)


_OPTIONS = {
    "constant_memory": True,  # rows go to disk as they are written; text goes in line
    "in_memory": False,  # set for small workbooks: no temporary files (and no constant_memory)
    "strings_to_formulas": False,  # text is text, whatever it starts with
    "strings_to_urls": False,
    "strings_to_numbers": False,  # "00123" stays "00123"
    "nan_inf_to_errors": False,  # NaN is left empty and infinity written as text before it gets here
}
_IN_MEMORY_CELLS = 500_000  # up to this many cells a workbook is built in memory (~100 MB at most)
_MAX_ROWS, _MAX_COLUMNS = 1_048_576, 16_384
_DAY_US = 86_400_000_000
# Excel's day 0 for dates from 1900-03-01 on (serial 61); earlier serials carry its 1900 leap-year bug
_EPOCH_US = int(np.datetime64("1899-12-30", "us").astype(np.int64))
_FIRST_PLAIN_SERIAL = 61
_Write = Callable[..., int]


class _Sheet:
    """Writes a frame's cells into one worksheet: the header row, then the data a row at a time."""

    def __init__(self, book: xlsxwriter.Workbook, name: str | None, formats: dict) -> None:
        self.sheet = book.add_worksheet(name)
        self.header, self.date, self.datetime = formats["header"], formats["date"], formats["datetime"]

    @staticmethod
    def formats(book: xlsxwriter.Workbook) -> dict:
        """The cell formats every sheet of `book` shares: bold header, date, date and time."""
        return {
            "header": book.add_format({"bold": True}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }

    def write(self, frame: pd.DataFrame) -> None:
        """Write `frame` (already `_excel_ready`): column names as the header row, then its rows."""
        rows, columns = frame.shape
        if rows + 1 > _MAX_ROWS or columns > _MAX_COLUMNS:
            raise ValueError(
                f"sheet {self.sheet.name!r} is too large for Excel: {rows} rows and {columns} "
                f"columns (at most {_MAX_ROWS - 1} rows and {_MAX_COLUMNS} columns)"
            )
        for col, name in enumerate(frame.columns):
            self.sheet.write_string(0, col, name, self.header)
        values, writers, formats = [], [], []
        for col in range(columns):
            cells, write, fmt = self._column(frame.iloc[:, col])
            values.append(cells)
            writers.append(write)
            formats.append(fmt)
            if fmt is not None:  # wide enough to show the date instead of ####
                self.sheet.set_column(col, col, 20 if fmt is self.datetime else 11)
        for row, cells in enumerate(zip(*values), start=1):
            for col, value in enumerate(cells):
                if value is not None:
                    writers[col](row, col, value, formats[col])

    def _column(self, series: pd.Series) -> tuple[list, _Write, object]:
        """A column's cell values (None for an empty cell), the method writing them and their format."""
        sheet, dtype = self.sheet, series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "b":
            return series.tolist(), sheet.write_boolean, None
        if isinstance(dtype, np.dtype) and dtype.kind in "iu":
            return series.tolist(), sheet.write_number, None
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            array = series.to_numpy()
            if np.isinf(array).any():  # a rare column: cell by cell, infinity as text
                return [self._cell(value) for value in array.tolist()], _write_cell, None
            cells = array.tolist()
            for i in np.flatnonzero(np.isnan(array)).tolist():
                cells[i] = None
            return cells, sheet.write_number, None
        if isinstance(dtype, np.dtype) and dtype.kind == "M":
            dates = self._dates(series.to_numpy())
            if dates is not None:
                return dates
        if isinstance(dtype, pd.StringDtype):  # text, neutralised by `_excel_ready`
            return series.to_numpy(dtype=object, na_value=None).tolist(), sheet.write_string, None
        return [self._cell(value) for value in series.tolist()], _write_cell, None

    def _dates(self, array: np.ndarray) -> tuple[list, _Write, object] | None:
        """Naive datetimes as Excel serial numbers, or None when some precede 1900-03-01."""
        missing = np.isnat(array)
        delta = array.astype("datetime64[us]").astype(np.int64) - _EPOCH_US
        days, rest = np.divmod(delta, _DAY_US)
        present = ~missing
        if np.any(days[present] < _FIRST_PLAIN_SERIAL):
            return None
        cells = (days + rest / _DAY_US).tolist()
        for i in np.flatnonzero(missing).tolist():
            cells[i] = None
        fmt = self.datetime if np.any(rest[present]) else self.date
        return cells, self.sheet.write_number, fmt

    def _cell(self, value) -> tuple[_Write, object, object] | None:
        """One value of a mixed column: the method writing it, the value to write and its format."""
        sheet = self.sheet
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, str):  # neutralised by `_excel_ready`
            return sheet.write_string, value, None
        if isinstance(value, bool | np.bool_):
            return sheet.write_boolean, bool(value), None
        if isinstance(value, int | np.integer):
            return sheet.write_number, int(value), None
        if isinstance(value, float | np.floating | decimal.Decimal):
            number = float(value)
            if math.isinf(number):
                return sheet.write_string, "inf" if number > 0 else "-inf", None
            return None if math.isnan(number) else (sheet.write_number, number, None)
        if isinstance(value, np.datetime64 | np.timedelta64):
            value = pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value)
            if value is pd.NaT:
                return None
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime(warn=False)
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=None)  # the wall-clock time, as `_excel_ready` keeps it
            fmt = self.datetime if value.time() != dt.time() else self.date
            return sheet.write_datetime, value, fmt
        if isinstance(value, dt.date):
            return sheet.write_datetime, value, self.date
        if isinstance(value, dt.timedelta):  # days, as `DataFrame.to_excel` writes durations
            return sheet.write_number, value.total_seconds() / 86400, None
        return sheet.write_string, neutralise_cell(str(value)), None


def _write_cell(row: int, col: int, cell: tuple[_Write, object, object], _format=None) -> int:
    """Write one cell of a mixed column, as `_Sheet._cell` prepared it."""
    write, value, fmt = cell
    return write(row, col, value, fmt)


def write_workbook(products: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write products into one Excel workbook, a sheet per product, in the order given.

    The file is written beside `path` (as `<name>.tmp`) and then moved over it, so readers never
    see a half-written workbook.

    Args:
        products: Frames by product name; their index is not written.
        path: The `.xlsx` file to write (replaced when it exists).

    Returns:
        The path written.

    Raises:
        ValueError: A frame has more rows or columns than an Excel sheet holds.

    Example:
        >>> write_workbook({"alerts": alerts, "bias": bias}, "run/06_follow_up.xlsx")  # doctest: +SKIP
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    taken: set[str] = set()
    options = {**_OPTIONS, "in_memory": sum(frame.size for frame in products.values()) <= _IN_MEMORY_CELLS}
    try:
        with xlsxwriter.Workbook(str(tmp), options) as book:
            formats = _Sheet.formats(book)
            for name, frame in products.items():
                _Sheet(book, sheet_name(name, taken), formats).write(_excel_ready(frame))
            if not products:
                note = pd.DataFrame({"note": ["This step has no products."]})
                _Sheet(book, None, formats).write(note)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path


def write_step_workbook(run_dir: str | Path, step) -> Path:
    """Write the products a step saved in a run as `RUN_DIR/<report>.xlsx`, beside its HTML report.

    Args:
        run_dir: The run's folder.
        step: The step (`salesops.steps.Step`).

    Returns:
        The workbook's path.

    Example:
        >>> write_step_workbook("reports/2026-11", steps.get("follow_up"))  # doctest: +SKIP
    """
    from .store import StepStore

    store = StepStore(run_dir)
    products = {name: store.read(step.name, name, default=None) for name in step.products}
    found = {name: frame for name, frame in products.items() if frame is not None}
    return write_workbook(found, Path(run_dir) / f"{Path(step.report).stem}.xlsx")
