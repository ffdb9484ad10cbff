"""Plan stability (nervousness): how much a plan moved since the last cycle, in demand and follow-up."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.demand import plan_stability
from salesops.followup import PastPlans, stability_by_cycle


def plan(values: dict[tuple[str, str, str], float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"unique_id": u, "family": f, "ds": pd.Timestamp(f"{m}-01"), "consensus": v}
            for (u, f, m), v in values.items()
        ]
    )


OLD = plan(
    {
        ("a", "F", "2026-11"): 100,
        ("b", "F", "2026-11"): 100,
        ("c", "G", "2026-11"): 50,
        ("a", "F", "2026-12"): 80,
    }
)
NEW = plan(
    {
        ("a", "F", "2026-11"): 130,  # +30
        ("b", "F", "2026-11"): 70,  # -30: cancels within F, still moved
        ("c", "G", "2026-11"): 60,  # +10
        ("a", "F", "2027-01"): 999,  # not in the old plan: not compared
    }
)


def test_stability_per_family_and_total_over_the_months_both_plans_cover():
    out = plan_stability(NEW, OLD).set_index("family")
    assert out.index.tolist() == ["F", "G", "Total"]
    assert out.loc["F", "previous"] == 200 and out.loc["F", "current"] == 200
    assert out.loc["F", "net_change"] == 0
    assert out.loc["F", "abs_change"] == pytest.approx(60 / 200)
    assert out.loc["G", "net_change"] == pytest.approx(10 / 50)
    assert out.loc["Total", "previous"] == 250  # a/F/2026-12 is only in the old plan
    assert out.loc["Total", "abs_change"] == pytest.approx(70 / 250)
    assert out.loc["Total", "net_change"] == pytest.approx(10 / 250)
    assert out.loc["Total", "months"] == 1
    assert plan_stability(NEW, None).empty and plan_stability(NEW, OLD.iloc[0:0]).empty


def test_stability_by_cycle_pairs_consecutive_cycles_up_to_this_one():
    older = OLD.assign(consensus=OLD["consensus"] * 2)
    demand = pd.concat([older.assign(period="2026-09"), OLD.assign(period="2026-10")], ignore_index=True)
    plans = PastPlans(
        demand=demand, production=pd.DataFrame(), projection=pd.DataFrame(), sources=pd.DataFrame()
    )
    out = stability_by_cycle(plans, NEW, "2026-11")
    total = out[out["family"] == "Total"].set_index("period")
    assert total.index.tolist() == ["2026-10", "2026-11"]
    # 2026-10 vs 2026-09: every SKU-month halved -> moved 50 %, net -50 %
    assert total.loc["2026-10", "abs_change"] == pytest.approx(0.5)
    assert total.loc["2026-10", "net_change"] == pytest.approx(-0.5)
    assert total.loc["2026-11", "abs_change"] == pytest.approx(70 / 250)
    assert stability_by_cycle(
        PastPlans(demand.iloc[0:0], pd.DataFrame(), pd.DataFrame(), pd.DataFrame()), NEW, "2026-11"
    ).empty
