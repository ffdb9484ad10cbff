"""salesops.sales on the public crm-maven data, loaded through the params mapping only.

The metrics are checked against an independent pandas computation on the raw CSV files.
"""

from pathlib import Path

import pandas as pd
import pytest

import salesops as so
from salesops import sales
from salesops.data.sources import apply_mapping

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "crm-maven"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PERIOD = "2018-01"  # history through December 2017 covers every close date of the dataset

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"crm-maven data not found at {DATA}")


def load_mapped(p) -> dict[str, pd.DataFrame]:
    """Read each table named in `p.data.tables` and apply its `columns:` and `values:` mapping."""
    tables = {}
    for name, mapping in p.data.tables.items():
        path = DATA / f"{mapping.source}.csv"
        if not path.exists():
            path = FIXTURES / f"{mapping.source}.csv"
        tables[name] = apply_mapping(pd.read_csv(path), mapping)
    return tables


@pytest.fixture(scope="module")
def crm():
    p = so.params.load(period=PERIOD, params=FIXTURES / "crm_maven_params.yaml")
    return p, load_mapped(p)


@pytest.fixture(scope="module")
def raw():
    pipeline = pd.read_csv(DATA / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])
    teams = pd.read_csv(DATA / "sales_teams.csv")
    return pipeline.merge(teams, on="sales_agent", how="left")


def independent_metrics(raw: pd.DataFrame, key: str) -> pd.DataFrame:
    closed = raw.loc[raw["deal_stage"].isin(["Won", "Lost"])]
    won = closed.loc[closed["deal_stage"] == "Won"]
    out = pd.DataFrame(
        {
            "win_rate": won.groupby(key).size() / closed.groupby(key).size(),
            "avg_deal": won.groupby(key)["close_value"].mean(),
            "cycle_days": (won["close_date"] - won["engage_date"]).dt.days.groupby(won[key]).median(),
        }
    )
    return out.rename_axis("key").sort_index()


def test_the_lookback_covers_every_closed_deal(crm, raw):
    p, _ = crm
    as_of = p.period_start - pd.Timedelta(days=1)
    first_close = raw["close_date"].min()
    assert first_close > as_of - pd.DateOffset(months=p.sales.lookback_months)
    assert raw["close_date"].max() <= as_of


@pytest.mark.parametrize(
    "by, key", [("rep", "sales_agent"), ("team", "manager"), ("region", "regional_office")]
)
def test_win_rate_deal_size_and_cycle_match_pandas_on_the_raw_csv(crm, raw, by, key):
    p, tables = crm
    as_of = p.period_start - pd.Timedelta(days=1)
    got = sales.deal_metrics(
        tables["opportunities"], as_of, p.sales.lookback_months, by=by, reps=tables["reps"]
    )
    got = got.set_index(by).rename_axis("key").sort_index()[["win_rate", "avg_deal", "cycle_days"]]
    expected = independent_metrics(raw, key)
    assert list(got.index) == list(expected.index)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_names=False, rtol=1e-12)


def test_rep_comparison_carries_the_same_metrics_for_every_active_agent(crm, raw):
    p, tables = crm
    sp = sales.SalesPerformance(tables, p)
    comparison = sp.rep_comparison.set_index("rep")
    expected = independent_metrics(raw, "sales_agent")
    pd.testing.assert_series_equal(
        comparison.loc[expected.index, "win_rate"], expected["win_rate"], check_names=False, check_dtype=False
    )
    # the 5 agents of sales_teams.csv with no deal are listed, without metrics
    idle = set(pd.read_csv(DATA / "sales_teams.csv")["sales_agent"]) - set(raw["sales_agent"])
    assert len(idle) == 5 and comparison.loc[sorted(idle), "win_rate"].isna().all()


def test_crm_products_come_out_with_their_contract_columns(crm):
    p, tables = crm
    sp = sales.SalesPerformance(tables, p)
    assert list(sp.pipeline_forecast.columns) == ["ds", "sku", "family", "units", "amount"]
    assert sp.pipeline_forecast["ds"].min() >= p.period_start
    # every open deal names a product the mapping resolves ("GTXPro" -> "GTX Pro"), so units are known
    assert sp.pipeline_forecast["units"].notna().all()
    open_deals = ~tables["opportunities"]["stage"].isin(["won", "lost"])
    assert len(sp.pipeline) == int(open_deals.sum())
    # expected amount in the forecast = sum over open deals of amount x learned stage probability
    assert sp.pipeline_forecast["amount"].sum() == pytest.approx(
        (sp.pipeline["amount"] * sp.pipeline["win_probability"]).sum()
    )
    won_total = tables["opportunities"].query("stage == 'won'")["amount"].sum()
    company_year = sp.attainment.query("level == 'company' and window == 'year'").iloc[0]
    assert company_year["won"] == pytest.approx(won_total)
