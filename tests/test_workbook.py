"""Step workbooks: every kind of value lands in its Excel cell as the same value and type."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from salesops import workbook
from salesops.safety import neutralise_cell

NAIVE = pd.Timestamp("2026-11-02 06:30:15")
AWARE = pd.Timestamp("2026-11-02 23:45", tz="America/New_York")


def every_kind() -> pd.DataFrame:
    """A column per kind of value, plus one object column mixing them all."""
    mixed = [
        7,
        np.int64(-3),
        2.5,
        np.float64(0.1),
        np.nan,
        None,
        True,
        np.bool_(False),
        NAIVE,
        AWARE,
        pd.NaT,
        dt.date(2026, 11, 30),
        "=1+1",
        "https://example.com/x",
        "00123",
        [1, "a"],
        {"k": 1},
        pd.Period("2026-11", "M"),
    ]
    rows = len(mixed)

    def cycle(values):
        return [values[i % len(values)] for i in range(rows)]

    return pd.DataFrame(
        {
            "int": cycle([1, -2, 10**12]),
            "float": cycle([1.5, np.nan, -0.1, 1 / 3]),
            "bool": cycle([True, False]),
            "naive": pd.to_datetime(cycle([NAIVE, pd.NaT, pd.Timestamp("2026-01-31")])),
            "aware": pd.to_datetime(cycle([AWARE, pd.NaT])),
            "month": pd.to_datetime(cycle(["2026-11-01", "2027-01-01"])),
            "text": pd.array(
                cycle(["=1+1", "https://example.com/x", "00123", None, "@SUM(A1)"]), dtype="str"
            ),
            "nullable": pd.array(cycle([4, None]), dtype="Int64"),
            "mixed": mixed,
        }
    )


def expected(value):
    """What a cell should hold for `value`, worked out from the value alone: (value, Python type)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None, type(None)
    if value is pd.NA:
        return None, type(None)
    if isinstance(value, bool | np.bool_):
        return bool(value), bool
    if isinstance(value, int | np.integer):
        return int(value), int
    if isinstance(value, float | np.floating):
        return float(value), float
    if isinstance(value, pd.Timestamp):
        naive = value.tz_localize(None) if value.tzinfo is not None else value
        return naive.to_pydatetime(), dt.datetime
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()), dt.datetime
    if isinstance(value, str):
        return neutralise_cell(value), str
    return str(value), str  # lists, dicts, periods: as text


@pytest.mark.parametrize("in_memory_cells", [0, 10**6], ids=["row_by_row", "in_memory"])
def test_workbook_cells_keep_each_value_and_type(tmp_path, monkeypatch, in_memory_cells):
    monkeypatch.setattr(workbook, "_IN_MEMORY_CELLS", in_memory_cells)
    frame = every_kind()
    path = workbook.write_workbook({"kinds": frame}, tmp_path / "book.xlsx")
    assert not (tmp_path / "book.xlsx.tmp").exists()
    sheet = load_workbook(path)["kinds"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == list(frame.columns)
    assert len(rows) == len(frame) + 1
    for i, row in enumerate(rows[1:]):
        for column, cell in zip(frame.columns, row, strict=True):
            value = frame[column].iloc[i] if column != "mixed" else frame[column].tolist()[i]
            want, kind = expected(value)
            where = f"{column}[{i}] = {value!r}"
            assert type(cell.value) is kind, f"{where}: {cell.value!r} is {type(cell.value).__name__}"
            assert cell.data_type != "f", f"{where} was written as a formula"
            assert cell.hyperlink is None, f"{where} was written as a link"
            if kind is float:
                assert cell.value == pytest.approx(want, rel=1e-15, abs=0), where
            else:
                assert cell.value == want, where
            if kind is dt.datetime:
                has_time = (
                    frame[column].dt.time.ne(dt.time()).any()
                    if column != "mixed"
                    else want.time() != dt.time()
                )
                assert cell.is_date and cell.number_format.startswith("yyyy-mm-dd"), where
                assert ("hh:mm" in cell.number_format) == bool(has_time), where


def test_workbook_reads_back_like_to_excel(tmp_path):
    frame = every_kind().drop(columns="mixed")
    path = workbook.write_workbook({"kinds": frame}, tmp_path / "book.xlsx")
    back = pd.read_excel(path, sheet_name="kinds")
    pd.testing.assert_series_equal(back["int"], frame["int"])
    pd.testing.assert_series_equal(back["float"], frame["float"])
    pd.testing.assert_series_equal(back["bool"], frame["bool"])
    assert back["naive"].tolist() == frame["naive"].tolist()
    assert back["aware"].tolist() == frame["aware"].dt.tz_localize(None).tolist()
    assert back["text"].tolist() == [neutralise_cell(v) if isinstance(v, str) else v for v in frame["text"]]


def test_workbook_sheets_headers_note_infinity_and_atomic_replace(tmp_path):
    path = tmp_path / "step.xlsx"
    path.write_bytes(b"previous")
    long = "x" * 40
    workbook.write_workbook(
        {
            long: pd.DataFrame({"a": [1]}),
            long + "y": pd.DataFrame({"=b": [math.inf, -math.inf]}),
            "empty": pd.DataFrame({"sku": pd.Series([], dtype="str"), "units": pd.Series([], dtype=float)}),
        },
        path,
    )
    book = load_workbook(path)
    assert book.sheetnames == [long[:31], long[:29] + "~2", "empty"]
    assert [[c.value for c in row] for row in book["empty"].iter_rows()] == [["sku", "units"]]
    header, plus, minus = book[long[:29] + "~2"].iter_rows()
    assert header[0].value == "'=b"  # column names are neutralised too
    assert [(c.value, c.data_type) for c in (plus[0], minus[0])] == [
        ("inf", "s"),
        ("-inf", "s"),
    ]  # no formula

    workbook.write_workbook({}, path)
    book = load_workbook(path)
    assert [[c.value for c in row] for row in book.active.iter_rows()] == [
        ["note"],
        ["This step has no products."],
    ]


def test_workbook_too_large_leaves_the_old_file(tmp_path):
    path = tmp_path / "step.xlsx"
    path.write_bytes(b"previous")
    with pytest.raises(ValueError, match="too large"):
        workbook.write_workbook({"big": pd.DataFrame(index=range(1_048_576))}, path)
    assert path.read_bytes() == b"previous"
    assert not (tmp_path / "step.xlsx.tmp").exists()
