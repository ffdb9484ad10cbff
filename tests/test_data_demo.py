"""The demo company: deterministic, complete against the contract, and shaped like a real business."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_fixtures import make_params, tree_digest

import salesops as so
from salesops.data import DEMO_LAST_MONTH, TABLES, generate_demo, write_demo


@pytest.fixture(scope="module")
def demo():
    return generate_demo()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, _, _ = (
        write_demo(tmp_path / name, seed=seed, skus=20, months=12, reps=6)
        for name, seed in (("a", 5), ("b", 5), ("c", 6))
    )
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")
    # every table of the contract but the optional ones (accounts, stage history) the demo does not keep
    assert sorted(a) == sorted(set(TABLES) - {"accounts", "opportunity_history"})
    assert all(path.name == f"{name}.csv" for name, path in a.items())


def test_every_contract_column_is_present(demo):
    for name, spec in TABLES.items():
        if name in ("accounts", "opportunity_history"):  # optional tables the demo does not keep
            continue
        assert set(spec.required) <= set(demo[name].columns), name


def test_history_ends_in_the_fixed_last_month(demo):
    months = pd.to_datetime(demo["sales"]["date"]).dt.to_period("M")
    assert str(months.max()) == DEMO_LAST_MONTH == "2026-10"
    assert months.nunique() == 48
    assert str(months.min()) == "2022-11"


def test_products_families_resources(demo):
    products = demo["products"]
    assert len(products) == 150 and products["sku"].is_unique
    assert products["family"].nunique() == 10
    assert products["resource"].nunique() == 3
    assert set(products["status"]) == {"active", "launch", "end_of_life"}
    assert (products["unit_cost"] < products["unit_price"]).all()


def test_capacity_and_budget_cover_history_and_two_years_ahead(demo):
    months = pd.date_range("2022-11-01", "2028-10-01", freq="MS").strftime("%Y-%m-%d")
    capacity = demo["capacity"]
    for resource in demo["products"]["resource"].unique():
        assert capacity.loc[capacity["resource"] == resource, "month"].tolist() == months.tolist()
    budget = demo["budget"]
    for family in demo["products"]["family"].unique():
        assert budget.loc[budget["family"] == family, "month"].tolist() == months.tolist()


def test_supply_is_open_orders_for_the_next_months(demo):
    supply = demo["supply"]
    assert set(supply["month"]) == {"2026-11-01", "2026-12-01", "2027-01-01"}
    assert set(supply["sku"]) <= set(demo["products"]["sku"])
    assert (supply["quantity"] > 0).all()


def test_crm_reps_teams_quotas_opportunities_survey(demo):
    reps, quotas, opps, survey = demo["reps"], demo["quotas"], demo["opportunities"], demo["survey"]
    assert len(reps) == 25 and reps["rep"].is_unique and reps["team"].nunique() == 4
    assert quotas["month"].max() == "2027-10-01"  # 12 months ahead of the last history month
    assert set(quotas["rep"]) == set(reps["rep"])
    assert len(opps) == 3000 and opps["opportunity_id"].is_unique
    assert set(opps["stage"]) == {"prospecting", "qualified", "proposal", "won", "lost"}
    assert (opps.loc[opps["stage"].isin(["won", "lost"]), "close_date"] <= "2026-10-31").all()
    assert (opps.loc[~opps["stage"].isin(["won", "lost"]), "close_date"] > "2026-10-31").all()
    assert survey["score"].between(0, 10).all()
    assert pd.to_datetime(survey["date"]).dt.to_period("M").nunique() == 48


def test_demand_looks_real(demo):
    sales = demo["sales"].assign(month=lambda f: pd.to_datetime(f["date"]))
    grid = sales.pivot_table(index="sku", columns="month", values="quantity", aggfunc="sum", fill_value=0)
    grid = grid.reindex(demo["products"]["sku"], fill_value=0)
    total = grid.sum(axis=0)
    # yearly seasonality: the aggregate correlates with itself a year earlier
    assert total.autocorr(lag=12) > 0.5
    # intermittent SKUs: many zero months while selling
    zero_share = (grid == 0).mean(axis=1)
    assert ((zero_share > 0.3) & (zero_share < 1)).sum() >= 5
    # launches start inside the history, end-of-life SKUs stop before its end
    first_sale = grid.gt(0).idxmax(axis=1)
    last_sale = grid.gt(0).iloc[:, ::-1].idxmax(axis=1)
    assert (first_sale > total.index[6]).sum() >= 5
    eol = demo["products"].set_index("sku")["status"].eq("end_of_life")
    assert (last_sale[eol[eol].index] < total.index[-3]).all()
    # promotions: some months jump more than 40% above both neighbours for one SKU
    ratio = grid.iloc[:, 1:-1].to_numpy() / np.maximum(
        1, (grid.iloc[:, :-2].to_numpy() + grid.iloc[:, 2:].to_numpy()) / 2
    )
    assert (ratio > 1.4).sum() > 20


def test_the_demo_validates_clean(tmp_path):
    write_demo(tmp_path / "data", seed=3, skus=40, months=24, reps=10)
    found = so.data.check(make_params(tmp_path / "data", out=tmp_path / "out"))
    assert [f for f in found if f.is_error] == []
    assert {(f.table, f.column, f.message) for f in found} <= {
        ("opportunities", "account", "deal has no account")
    }


def test_ten_thousand_skus_generate_within_a_minute():
    started = time.perf_counter()
    tables = generate_demo(seed=1, skus=10_000, months=48, reps=25)
    elapsed = time.perf_counter() - started
    assert tables["products"]["sku"].nunique() == 10_000
    assert elapsed < 60, f"10,000 SKUs took {elapsed:.1f} s"


def test_demo_source_is_cached_and_built_once_across_threads(tmp_path):
    p = make_params(None, out=tmp_path)
    p.demo.skus, p.demo.months, p.demo.reps = 20, 12, 6
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(so.data.demo_source(p))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = Path(tmp_path) / ".cache" / "demo-42-20-12-6.duckdb"
    assert set(paths) == {str(expected)}
    assert [f.name for f in expected.parent.iterdir()] == [expected.name]  # no temporary file left
    tables = so.data.load_tables(p)
    assert tables["products"]["sku"].tolist() == generate_demo(42, 20, 12, 6)["products"]["sku"].tolist()
