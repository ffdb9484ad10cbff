"""collect(): normalised tables, demand history, findings, snapshot reuse, and the report frames."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from data_fixtures import make_params, write_small_demo

import salesops as so
from salesops.data import overview
from salesops.steps import INPUT_TABLES


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return write_small_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def collected(small_demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    p = make_params(small_demo, out=out)
    store = so.store.StepStore(out / "2026-11")
    return p, store, so.data.collect(p, store)


def test_every_product_is_written(collected):
    _, store, c = collected
    for name in INPUT_TABLES + ("demand_history", "findings"):
        assert store.exists("data_collection", name), name
    meta = json.loads((store.data_dir / "data_collection" / "snapshot.json").read_text())
    assert meta["input_hash"] == c.input_hash and len(c.input_hash) == 64
    assert meta["rows"]["sales"] == len(c.tables["sales"])
    assert list(store.read("data_collection", "findings").columns) == [
        "severity",
        "table",
        "column",
        "row",
        "message",
        "value",
    ]


def test_sales_are_monthly_totals_and_history_fills_gaps(collected, small_demo):
    _, store, c = collected
    raw = pd.read_csv(small_demo / "sales.csv", parse_dates=["date"])
    history = store.read("data_collection", "demand_history")

    expected = raw.pivot_table(index="sku", columns="date", values="quantity", aggfunc="sum")
    expected = expected.reindex(columns=pd.date_range(raw["date"].min(), "2026-10-01", freq="MS"))
    first = expected.notna().idxmax(axis=1)
    rows = [
        (sku, m, 0.0 if np.isnan(v) else float(v))
        for sku, series in expected.iterrows()
        for m, v in series.items()
        if m >= first[sku]
    ]
    assert list(history.columns) == ["unique_id", "ds", "y"]
    assert list(history.itertuples(index=False, name=None)) == rows
    assert (
        c.tables["sales"]["month"] == c.tables["sales"]["month"].dt.to_period("M").dt.to_timestamp()
    ).all()


def test_daily_transactions_aggregate_to_months(small_demo, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    monthly = pd.read_csv(data / "sales.csv")
    first = monthly.assign(quantity=monthly["quantity"] // 2, revenue=(monthly["revenue"] / 2).round(2))
    second = monthly.assign(
        quantity=monthly["quantity"] - first["quantity"],
        revenue=(monthly["revenue"] - first["revenue"]).round(2),
        date=pd.to_datetime(monthly["date"]).add(pd.Timedelta(days=14)).dt.strftime("%Y-%m-%d"),
    )
    pd.concat([first, second]).sample(frac=1, random_state=1).to_csv(data / "sales.csv", index=False)
    p = make_params(data, out=tmp_path / "out")

    c = so.data.collect(p, so.store.StepStore(tmp_path / "out" / "2026-11"))

    got = c.tables["sales"].set_index(["sku", "month"])["quantity"].sort_index()
    want = (
        monthly.assign(month=pd.to_datetime(monthly["date"]))
        .set_index(["sku", "month"])["quantity"]
        .sort_index()
    )
    assert got.tolist() == want.astype(float).tolist()
    assert got.index.tolist() == want.index.tolist()


def test_rerun_with_same_inputs_reuses_the_snapshot(collected):
    p, _, first = collected
    store = so.store.StepStore(p.run_path.parent / "rerun")
    again = so.data.collect(p, store)
    assert again.reused and again.input_hash == first.input_hash
    cache = p.run_path.parent / ".cache" / "snapshots" / first.input_hash
    for name in INPUT_TABLES:
        assert (cache / f"{name}.parquet").read_bytes() == store.path("data_collection", name).read_bytes()


def test_changed_input_changes_the_hash(small_demo, collected, tmp_path):
    _, _, first = collected
    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    inv = pd.read_csv(data / "inventory.csv")
    inv.loc[0, "on_hand"] += 1
    inv.to_csv(data / "inventory.csv", index=False)
    c = so.data.collect(
        make_params(data, out=tmp_path / "out"), so.store.StepStore(tmp_path / "out" / "2026-11")
    )
    assert not c.reused and c.input_hash != first.input_hash


def test_row_counts_and_coverage_frames(collected, small_demo):
    _, _, c = collected
    counts = overview.row_counts(c.tables)
    quotas = pd.read_csv(small_demo / "quotas.csv")
    want = quotas.groupby("month").size()
    got = counts[counts["table"] == "quotas"].set_index("month")["rows"]
    assert got.tolist() == want.tolist()

    cov = overview.coverage(c.demand_history, c.tables["products"])
    h = c.demand_history.merge(c.tables["products"][["sku", "family"]], left_on="unique_id", right_on="sku")
    one = h[(h["family"] == h["family"].iloc[0]) & (h["ds"] == h["ds"].max())]
    row = cov[(cov["family"] == h["family"].iloc[0]) & (cov["month"] == h["ds"].max())].iloc[0]
    assert row["coverage"] == round((one["y"] > 0).sum() / len(one), 3)


def test_changes_since_last_period(small_demo, tmp_path):
    out = tmp_path / "out"
    previous = so.data.collect(
        make_params(small_demo, out=out, period="2026-10"), so.store.StepStore(out / "2026-10")
    )
    p = make_params(small_demo, out=out)
    now = so.data.collect(p, so.store.StepStore(out / "2026-11"))

    changes = overview.changes_since_last_period(p, now.tables).set_index("table")

    assert changes.loc["sales", "rows_before"] == len(previous.tables["sales"])
    assert changes.loc["sales", "rows_now"] == len(now.tables["sales"])
    assert changes.loc["sales", "note"] == "history unchanged; one more month added"
    assert changes.loc["products", "added_keys"] == 0


def test_no_previous_period_gives_an_empty_frame(collected):
    p, _, c = collected
    assert overview.changes_since_last_period(p, c.tables).empty
