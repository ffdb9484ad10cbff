"""Bad input: a copy of the demo data corrupted in many ways, each refused with its exact message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from data_fixtures import make_params, tree_digest, write_small_demo

import salesops as so
from salesops.data import Finding, cap
from salesops.exceptions import DataError


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return write_small_demo(tmp_path_factory)


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, folder: Path, table: str) -> None:
    frame.to_csv(folder / f"{table}.csv", index=False)


# Each corruption edits the copy and returns the exact line `salesops validate` must print.
def drop_column(d):
    s = _read(d, "sales")
    _write(s.drop(columns=["quantity"]), d, "sales")
    return (
        "sales.quantity: required column is missing; rename a column with data.tables.sales.columns "
        "(columns found: date, sku, revenue)"
    )


def negative_qty(d):
    s = _read(d, "sales")
    s.loc[5, "quantity"] = "-40"
    _write(s, d, "sales")
    return "sales.quantity row 6: negative value (-40)"


def bad_date(d):
    s = _read(d, "sales")
    s.loc[7, "date"] = "2024-13-45"
    _write(s, d, "sales")
    return "sales.date row 8: not a date; write YYYY-MM-DD (2024-13-45)"


def dup_product(d):
    p = _read(d, "products")
    _write(pd.concat([p, p.iloc[[0]]]), d, "products")
    return f"products.sku row {len(p) + 1}: duplicate sku, also in row 1 ({p.loc[0, 'sku']})"


def unknown_sku(d):
    s = _read(d, "sales")
    s.loc[9, "sku"] = "NO-SUCH-SKU"
    _write(s, d, "sales")
    return "sales.sku row 10: unknown SKU, not in products (NO-SUCH-SKU)"


def close_sku(d):
    s = _read(d, "sales")
    real = s.loc[3, "sku"]
    s.loc[3, "sku"] = real.replace("-", " ")
    _write(s, d, "sales")
    return f"sales.sku row 4: unknown SKU, not in products; did you mean '{real}'? ({real.replace('-', ' ')})"


def text_qty(d):
    s = _read(d, "sales")
    s.loc[11, "quantity"] = "twelve"
    _write(s, d, "sales")
    return "sales.quantity row 12: not a number (twelve)"


def empty_sales(d):
    _write(_read(d, "sales").iloc[0:0], d, "sales")
    return "sales: table has no rows (only a header)"


def empty_file(d):
    (d / "sales.csv").write_bytes(b"")
    return "sales: file sales.csv is empty (not even a header line); export it again with a header row"


def missing_table(d):
    (d / "capacity.csv").unlink()
    return (
        f"capacity: table is missing from folder {d}; add capacity.csv or name the source table in "
        f"data.tables.capacity.source"
    )


def wrong_encoding(d):
    p = _read(d, "products")
    p.loc[2, "name"] = "Cafetière Spéciale"
    p.to_csv(d / "products.csv", index=False, encoding="cp1252")
    return (
        "products row 3: file products.csv is not UTF-8 text (byte 0xe8); save it as UTF-8 "
        "(in Excel: CSV UTF-8)"
    )


def huge_number(d):
    s = _read(d, "sales")
    huge = "9" * 400
    s.loc[2, "quantity"] = huge
    _write(s, d, "sales")
    return f"sales.quantity row 3: number too large to be real; the limit is 1e12 ({huge[:57]}...)"


def formula_injection(d):
    p = _read(d, "products")
    p.loc[4, "name"] = "=cmd|' /C calc'!A0"
    _write(p, d, "products")
    return "products.name row 5: text starts like a spreadsheet formula; remove the leading character (=cmd|' /C calc'!A0)"


def unknown_rep(d):
    o = _read(d, "opportunities")
    o.loc[3, "rep"] = "Nobody Here"
    _write(o, d, "opportunities")
    return "opportunities.rep row 4: unknown rep, not in reps (Nobody Here)"


def unknown_resource(d):
    p = _read(d, "products")
    p.loc[1, "resource"] = "Line Z"
    _write(p, d, "products")
    return "products.resource row 2: unknown resource, not in capacity (Line Z)"


def score_out_of_range(d):
    s = _read(d, "survey")
    s.loc[4, "score"] = "11"
    _write(s, d, "survey")
    return "survey.score row 5: outside 0 to 10 (11)"


def missing_month(d):
    s = _read(d, "sales")
    _write(s[~s["date"].str.startswith("2025-03")], d, "sales")
    return "sales.date: no sales at all in this month; the export looks incomplete (2025-03)"


def unknown_stage(d):
    o = _read(d, "opportunities")
    o.loc[1, "stage"] = "Negotiating"
    _write(o, d, "opportunities")
    return (
        "opportunities.stage row 2: unknown stage; map it to prospecting, qualified, proposal, won or lost "
        "with data.tables.opportunities.values.stage (Negotiating)"
    )


def duplicate_capacity(d):
    c = _read(d, "capacity")
    _write(pd.concat([c, c.iloc[[3]]]), d, "capacity")
    return (
        f"capacity.resource/month row {len(c) + 1}: duplicate resource / month, also in row 4 "
        f"({c.loc[3, 'resource']} / {c.loc[3, 'month']})"
    )


def capacity_gap(d):
    c = _read(d, "capacity")
    gap = c.loc[c["resource"] == c.loc[0, "resource"], "month"].iloc[5]
    _write(c[~((c["resource"] == c.loc[0, "resource"]) & (c["month"] == gap))], d, "capacity")
    return f"capacity.month: no capacity for resource {c.loc[0, 'resource']} in this month ({gap[:7]})"


def bad_month(d):
    q = _read(d, "quotas")
    q.loc[0, "month"] = "next month"
    _write(q, d, "quotas")
    return "quotas.month row 1: not a month; write YYYY-MM (next month)"


def empty_key(d):
    p = _read(d, "products")
    p.loc[6, "sku"] = ""
    _write(p, d, "products")
    return "products.sku row 7: empty value (empty)"


CORRUPTIONS = [
    drop_column,
    negative_qty,
    bad_date,
    dup_product,
    unknown_sku,
    close_sku,
    text_qty,
    empty_sales,
    empty_file,
    missing_table,
    wrong_encoding,
    huge_number,
    formula_injection,
    unknown_rep,
    unknown_resource,
    score_out_of_range,
    missing_month,
    unknown_stage,
    duplicate_capacity,
    capacity_gap,
    bad_month,
    empty_key,
]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=[c.__name__ for c in CORRUPTIONS])
def test_corruption_is_refused_with_its_exact_message(corrupt, small_demo, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    expected = corrupt(data)
    before = tree_digest(data)
    p = make_params(data, out=tmp_path / "out")

    lines = [str(f) for f in so.data.check(p) if f.is_error]

    assert expected in lines
    assert tree_digest(data) == before, "validation must never modify the raw inputs"


@pytest.mark.parametrize("corrupt", [negative_qty, unknown_sku, formula_injection], ids=lambda c: c.__name__)
def test_collect_refuses_errors_and_leaves_previous_outputs_identical(corrupt, small_demo, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    p = make_params(data, out=tmp_path / "out")
    store = so.store.StepStore(tmp_path / "out" / "2026-11")
    so.data.collect(p, store)
    previous = tree_digest(store.data_dir)
    expected = corrupt(data)

    with pytest.raises(DataError) as caught:
        so.data.collect(p, store)

    assert expected in str(caught.value).splitlines()
    assert expected in [str(f) for f in caught.value.findings]
    assert tree_digest(store.data_dir) == previous


def test_clean_demo_has_no_errors_only_missing_accounts(small_demo, tmp_path):
    opps = pd.read_csv(small_demo / "opportunities.csv")
    no_account = (opps.index[opps["account"].isna()] + 1).tolist()
    found = so.data.check(make_params(small_demo, out=tmp_path, max_problems=1000))
    assert [(f.severity, f.table, f.column, f.row) for f in found] == [
        ("warning", "opportunities", "account", row) for row in no_account
    ]


def test_many_problems_are_capped_per_check(small_demo, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    s = _read(data, "sales")
    s.loc[:99, "quantity"] = "lots"
    _write(s, data, "sales")
    p = make_params(data, out=tmp_path / "out", max_problems=7)

    lines = [str(f) for f in so.data.check(p) if f.table == "sales"]

    assert lines[:7] == [f"sales.quantity row {i}: not a number (lots)" for i in range(1, 8)]
    assert lines[7] == "... and 93 more like this"
    assert len(lines) == 8


def test_source_that_cannot_be_opened_raises_with_the_fix(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match=r"data source '.*nowhere' does not exist; point data.source"):
        so.data.check(make_params(missing, out=tmp_path))


def test_dates_after_the_period_are_warnings_and_left_out(small_demo, tmp_path):
    p = make_params(small_demo, out=tmp_path / "out", period="2026-09")
    sales = pd.read_csv(small_demo / "sales.csv")
    late = sales.index[sales["date"] >= "2026-09-01"]

    found = [f for f in so.data.check(p) if f.table == "sales"]
    collection = so.data.collect(p, so.store.StepStore(tmp_path / "out" / "2026-09"))

    assert all(f.severity == "warning" for f in found)
    assert str(found[0]) == (
        f"sales.date row {late[0] + 1}: dated in or after the period 2026-09; left out of "
        f"the history ({sales.loc[late[0], 'date']})"
    )
    assert collection.tables["sales"]["month"].max() == pd.Timestamp("2026-08-01")
    assert collection.demand_history["ds"].max() == pd.Timestamp("2026-08-01")


def test_finding_line_format():
    assert (
        str(Finding("error", "sales", "quantity", 6, "negative value", -40.0))
        == "sales.quantity row 6: negative value (-40)"
    )
    assert (
        str(Finding("warning", "opportunities", "close_date", None, "open deal has no close date", None))
        == "opportunities.close_date: open deal has no close date"
    )
    assert (
        str(Finding("error", "capacity", None, None, "table is missing", None))
        == "capacity: table is missing"
    )


def test_cap_keeps_each_check_separately():
    a = [Finding("error", "sales", "quantity", i, "not a number", "x", "not_a_number") for i in range(1, 4)]
    b = [Finding("error", "sales", "sku", i, "unknown SKU", "y", "unknown") for i in range(1, 3)]
    lines = [str(f) for f in cap(a + b, 2)]
    assert lines == [
        "sales.quantity row 1: not a number (x)",
        "sales.quantity row 2: not a number (x)",
        "... and 1 more like this",
        "sales.sku row 1: unknown SKU (y)",
        "sales.sku row 2: unknown SKU (y)",
    ]
