"""Real data from ../shared/data loaded through params mappings only; their quirks reported precisely."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from data_fixtures import SHARED_DATA, make_params

import salesops as so
from salesops.data.snapshot import demand_history, normalise
from salesops.data.sources import read_source
from salesops.data.validate import parse_table, parse_tables

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"public datasets not found at {SHARED_DATA}"
)

CRM_TABLES = {
    "opportunities": {
        "source": "sales_pipeline",
        "columns": {
            "sales_agent": "rep",
            "deal_stage": "stage",
            "engage_date": "created_date",
            "close_value": "amount",
            "product": "sku",
        },
        "values": {
            "stage": {"Engaging": "proposal", "Prospecting": "prospecting", "Won": "won", "Lost": "lost"}
        },
    },
    "reps": {
        "source": "sales_teams",
        "columns": {"sales_agent": "rep", "manager": "team", "regional_office": "region"},
    },
    "products": {"columns": {"product": "sku", "series": "family", "sales_price": "unit_price"}},
}


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    raw_dir = SHARED_DATA / "crm-maven"
    p = make_params(raw_dir, out=tmp_path_factory.mktemp("crm-out"), period="2018-01", tables=CRM_TABLES)
    raw = read_source(p)
    typed, findings = parse_tables(raw, p.period_start)
    pipeline = pd.read_csv(raw_dir / "sales_pipeline.csv")
    return p, typed, findings, pipeline


def _lines(findings, table, column, check):
    return [f for f in findings if (f.table, f.column, f.check) == (table, column, check)]


def test_crm_product_spelling_is_an_unknown_sku_with_a_hint(crm):
    _, _, findings, pipeline = crm
    found = _lines(findings, "opportunities", "sku", "unknown")
    expected_rows = (pipeline.index[pipeline["product"] == "GTXPro"] + 1).tolist()

    assert [f.row for f in found] == expected_rows
    assert len(found) == (pipeline["product"] == "GTXPro").sum() > 0
    assert {f.severity for f in found} == {"warning"}
    assert str(found[0]) == (
        f"opportunities.sku row {expected_rows[0]}: unknown SKU, not in products; "
        f"did you mean 'GTX Pro'? (GTXPro)"
    )


def test_crm_rows_without_account_are_each_reported(crm):
    _, _, findings, pipeline = crm
    found = _lines(findings, "opportunities", "account", "no_account")

    assert len(found) == 1425 == pipeline["account"].isna().sum()
    assert [f.row for f in found] == (pipeline.index[pipeline["account"].isna()] + 1).tolist()
    assert {f.severity for f in found} == {"warning"}
    assert str(found[0]) == f"opportunities.account row {found[0].row}: deal has no account (empty)"


def test_crm_open_deals_without_close_date_are_warnings(crm):
    _, _, findings, pipeline = crm
    found = _lines(findings, "opportunities", "close_date", "open_no_close")
    open_no_close = pipeline["deal_stage"].isin(["Engaging", "Prospecting"]) & pipeline["close_date"].isna()

    assert len(found) == open_no_close.sum() == 2089
    assert [f.row for f in found] == (pipeline.index[open_no_close] + 1).tolist()
    assert {f.severity for f in found} == {"warning"}


def test_crm_opportunities_and_reps_have_no_errors_and_stages_normalise(crm):
    _, typed, findings, pipeline = crm
    errors = [f for f in findings if f.is_error and f.table in ("opportunities", "reps")]
    expected = pipeline["deal_stage"].map(
        {"Engaging": "proposal", "Prospecting": "prospecting", "Won": "won", "Lost": "lost"}
    )

    assert errors == []
    assert typed["opportunities"]["stage"].tolist() == expected.tolist()
    assert set(typed["opportunities"]["rep"]) <= set(typed["reps"]["rep"])


def test_crm_check_caps_and_names_what_the_export_lacks(crm):
    p, _, _, _ = crm
    lines = [str(f) for f in so.data.check(p)]

    assert "... and 1375 more like this" in lines  # 1,425 rows without account, 50 listed
    assert (
        "products.unit_cost: required column is missing; rename a column with data.tables.products.columns "
        "(columns found: sku, family, unit_price)" in lines
    )
    assert any(line.startswith("sales: table is missing from folder") for line in lines)


def test_pbs_loads_as_sales_through_a_mapping(tmp_path):
    tables = {
        "sales": {
            "source": "pbs_monthly",
            "columns": {
                "ATC2": "sku",
                "ATC1": "family",
                "Scripts": "quantity",
                "Month": "date",
                "Cost": "revenue",
            },
        }
    }
    p = make_params(SHARED_DATA / "pbs-monthly", out=tmp_path, period="2008-07", tables=tables)
    typed, findings = parse_table("sales", read_source(p)["sales"].frame)
    monthly = normalise({"sales": typed}, p.period_start)["sales"]
    history = demand_history(monthly, p.period_start)

    raw = pd.read_csv(SHARED_DATA / "pbs-monthly" / "pbs_monthly.csv.gz")
    expected = raw.groupby(["ATC2", "Month"])["Scripts"].sum()
    got = monthly.assign(Month=monthly["month"].dt.strftime("%Y-%m")).set_index(["sku", "Month"])["quantity"]
    assert findings == []
    assert got.sort_index().to_numpy().tolist() == expected.sort_index().astype(float).to_numpy().tolist()
    assert monthly.groupby("sku")["family"].first().to_dict() == raw.groupby("ATC2")["ATC1"].first().to_dict()
    assert history["unique_id"].nunique() == raw["ATC2"].nunique() == 84
    assert history["ds"].max() == pd.Timestamp("2008-06-01")
    assert history["y"].sum() == raw["Scripts"].sum()


def test_superstore_order_lines_aggregate_to_months(tmp_path):
    tables = {
        "sales": {
            "source": "superstore_orders",
            "columns": {
                "Product ID": "sku",
                "Order Date": "date",
                "Quantity": "quantity",
                "Sales": "revenue",
                "Category": "family",
            },
        }
    }
    p = make_params(SHARED_DATA / "superstore", out=tmp_path, period="2018-01", tables=tables)
    typed, findings = parse_table("sales", read_source(p)["sales"].frame)
    monthly = normalise({"sales": typed}, p.period_start)["sales"]

    raw = pd.read_csv(SHARED_DATA / "superstore" / "superstore_orders.csv.gz")
    raw["month"] = pd.to_datetime(raw["Order Date"], format="%m/%d/%Y").dt.to_period("M").dt.to_timestamp()
    expected = raw.groupby(["Product ID", "month"]).agg(
        quantity=("Quantity", "sum"), revenue=("Sales", "sum")
    )
    got = monthly.set_index(["sku", "month"]).sort_index()
    assert findings == []
    assert len(got) == len(expected)
    assert got["quantity"].tolist() == expected["quantity"].astype(float).tolist()
    assert got["revenue"].round(4).tolist() == expected["revenue"].round(4).tolist()
    assert monthly["sku"].nunique() == 1862


def test_findings_counted_like_pandas_counts_them(crm):
    _, _, findings, pipeline = crm
    counts = Counter((f.column, f.check) for f in findings if f.table == "opportunities")
    assert counts[("created_date", "no_created")] == pipeline["engage_date"].isna().sum() == 500
