"""Report views and charts of the supply plan: what a planner reads matches the plan's numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.params import SupplyParams
from salesops.report import Callout, Table
from salesops.supply import charts, plan, views

MONTHS = pd.date_range("2026-11-01", periods=3, freq="MS")


@pytest.fixture(scope="module")
def short_plan():
    """Line of 10 h a month; A needs 15 h a month (1 h/unit), so 5, 10, 15 units short; B holds 40 units."""
    dp = pd.DataFrame(
        {
            "unique_id": ["A"] * 3 + ["B"] * 3,
            "family": ["F"] * 3 + ["G"] * 3,
            "ds": list(MONTHS) * 2,
            "consensus": [15.0] * 3 + [2.0] * 3,
        }
    )
    products = pd.DataFrame(
        {
            "sku": ["A", "B"],
            "family": ["F", "G"],
            "unit_price": [10.0, 9.0],
            "unit_cost": [6.0, 5.0],
            "resource": ["line", None],
            "hours_per_unit": [1.0, None],
            "lead_time_months": [0.0, 0.0],  # production may start in the first month
        }
    )
    tables = {
        "products": products,
        "capacity": pd.DataFrame({"resource": "line", "month": MONTHS, "hours": [10.0] * 3}),
        "inventory": pd.DataFrame({"sku": ["B"], "on_hand": [40.0]}),
    }
    return plan(dp, tables, SupplyParams(fallback_error_cv=0.0, excess_cover_months=2, frozen_months=0))


def test_headline_and_tables_carry_the_plan_numbers(short_plan):
    tiles = {t.label: t for t in views.headline(short_plan, "EUR", 0.95)}
    # A: 15 of 45 units shipped on time -> fill 1/3 overall with B's 6 units on time: (15 + 6) / 51
    assert tiles["Projected fill rate"].value == f"{(15 + 6) / 51:.1%}"
    assert tiles["Projected fill rate"].status == "bad"
    assert tiles["Resource-months over regular hours"].value == "3 of 3"
    assert tiles["Peak shortage value"].value == "EUR 150"  # 15 units x 10
    short = views.shortage_table(short_plan)
    assert short[["SKU", "Months short", "Peak shortage", "Units late"]].values.tolist() == [
        ["A", 3, 15.0, 30.0]
    ]
    # B: 38, 36, 34 on hand; cover 2 months x 2 = 4 -> excess peaks at 34 units x 5 in the first month
    ex = views.excess_table(short_plan)
    assert ex[["SKU", "Excess", "Excess value"]].values.tolist() == [["B", 34.0, 170.0]]
    strategies = views.strategy_table(short_plan)
    assert strategies["Strategy"].tolist() == ["Chase", "Level", "Cost-optimal (in use)"]
    # per family: F (A) gets 15 of 45 units on time, G (B) all 6 from stock
    assert strategies["Lowest family"].tolist() == ["F"] * 3
    assert strategies["Lowest family fill rate"].tolist() == pytest.approx([15 / 45] * 3)
    family = views.family_service_table(short_plan, 0.95).set_index("Family")
    assert family.loc["F", ["Demand", "Units late", "Units lost"]].tolist() == [45.0, 30.0, 15.0]
    assert family["Fill rate"].tolist() == pytest.approx([15 / 45, 1.0])
    assert family["Meets target"].tolist() == ["no", "yes"]
    assert "lowest family F 33.3%" in tiles["Projected fill rate"].detail
    over = views.overload_table(short_plan)
    assert over["Main families"].tolist() == ["F 100%"] * 3


def test_empty_sections_say_so(short_plan):
    assert isinstance(views.shortage_report(short_plan), Table)
    calm = plan(
        pd.DataFrame({"unique_id": "A", "family": "F", "ds": MONTHS, "consensus": 1.0}),
        {
            "products": pd.DataFrame(
                {
                    "sku": ["A"],
                    "family": ["F"],
                    "unit_price": [1.0],
                    "unit_cost": [0.5],
                    "resource": ["line"],
                    "hours_per_unit": [1.0],
                    "lead_time_months": [0.0],
                }
            ),
            "capacity": pd.DataFrame({"resource": "line", "month": MONTHS, "hours": 10.0}),
        },
        SupplyParams(fallback_error_cv=0.0, frozen_months=0),
    )
    for report in (views.shortage_report(calm), views.excess_report(calm), views.overload_report(calm)):
        assert isinstance(report, Callout) and report.kind == "good"


def test_charts_render_to_svg(short_plan):
    import vl_convert as vlc

    for chart in (
        charts.capacity_load_chart(short_plan),
        charts.strategy_cost_chart(short_plan),
        charts.strategy_production_chart(short_plan),
        charts.projection_chart(short_plan, views.top_risk_skus(short_plan, 2)),
    ):
        assert vlc.vegalite_to_svg(chart.to_json()).startswith("<svg")


def test_risk_caption_says_when_nothing_is_at_risk(short_plan):
    assert views.risk_report(short_plan).caption == "Top-risk SKUs"
    assert views.risk_table(short_plan)["SKU"].tolist()[0] == "A"
