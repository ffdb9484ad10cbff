"""salesops.sales on small hand-computed cases: payouts, eNPS, suppression, learned win rates, attainment."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesops as so
from salesops import sales
from salesops.exceptions import DataError, ParameterError
from salesops.params import CompensationPlan

AS_OF = pd.Timestamp("2026-10-31")
T = pd.Timestamp


def deal(i, rep, stage, amount, created, close=None, sku=None, **extra):
    return {
        "opportunity_id": f"o{i}",
        "rep": rep,
        "stage": stage,
        "amount": amount,
        "created_date": T(created) if created else pd.NaT,
        "close_date": T(close) if close else pd.NaT,
        "sku": sku,
        **extra,
    }


def frame(rows):
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- compensation
PLAN = CompensationPlan(
    individual_weight=0.75,
    team_weight=0.25,
    threshold=0.5,
    accelerator=2.0,
    cap=1.5,
    target_incentive={"default": 1000.0, "Dee": 2000.0, "manager": 3000.0},
)


@pytest.mark.parametrize(
    "attainment, rate",
    [
        (0.0, 0.0),
        (0.49, 0.0),  # below threshold: nothing
        (0.5, 0.5),
        (0.8, 0.8),
        (1.0, 1.0),  # linear from the threshold to 100%
        (1.2, 1.4),  # 1 + 0.2 x accelerator 2
        (1.5, 2.0),
        (3.0, 2.0),  # capped at 150%: 1 + 0.5 x 2
        (float("nan"), 0.0),
    ],
)
def test_payout_rate_threshold_accelerator_and_cap(attainment, rate):
    assert sales.payout_rate(attainment, PLAN) == pytest.approx(rate)


def payout_case():
    month_deals = [
        deal(1, "Ann", "won", 40.0, "2026-09-01", "2026-10-05"),  # 40% -> below threshold
        deal(2, "Bob", "won", 120.0, "2026-09-01", "2026-10-10"),  # 120% -> accelerator
        deal(3, "Cid", "won", 150.0, "2026-09-01", "2026-10-11"),  # 200% -> capped
        deal(4, "Cid", "won", 50.0, "2026-09-01", "2026-10-30"),
        deal(5, "Dee", "won", 80.0, "2026-09-01", "2026-10-20"),  # 80% -> linear
        deal(6, "Dee", "won", 999.0, "2026-09-01", "2026-09-20"),  # September: not this month
        deal(7, "Ann", "lost", 500.0, "2026-09-01", "2026-10-20"),  # lost: not counted
        deal(8, "Eve", "won", 100.0, "2026-09-01", "2026-10-03"),
    ]  # other team, role manager
    reps = frame(
        [{"rep": r, "team": "north", "region": "N", "role": "rep"} for r in ("Ann", "Bob", "Cid", "Dee")]
        + [{"rep": "Eve", "team": "south", "region": "S", "role": "manager"}]
    )
    quotas = frame(
        [{"rep": r, "month": "2026-10", "quota": 100.0} for r in ("Ann", "Bob", "Cid", "Dee", "Eve")]
        + [{"rep": "Dee", "month": "2026-09", "quota": 100.0}]
    )
    return frame(month_deals), quotas, reps


def test_payout_statement_is_hand_computable():
    opps, quotas, reps = payout_case()
    out = sales.payouts(opps, quotas, reps, PLAN, "2026-10").set_index("rep")
    # team north won 40 + 120 + 200 + 80 = 440 of 400 -> 110% -> rate 1 + 0.1 x 2 = 1.2
    assert out.loc["Ann", "team_attainment"] == pytest.approx(1.1)
    assert out.loc["Ann", "team_rate"] == pytest.approx(1.2)
    expected = {  # target x (0.75 x individual rate + 0.25 x team rate)
        "Ann": 1000 * (0.75 * 0.0 + 0.25 * 1.2),
        "Bob": 1000 * (0.75 * 1.4 + 0.25 * 1.2),
        "Cid": 1000 * (0.75 * 2.0 + 0.25 * 1.2),
        "Dee": 2000 * (0.75 * 0.8 + 0.25 * 1.2),  # by-name incentive wins over the default
        "Eve": 3000 * (0.75 * 1.0 + 0.25 * 1.0),  # by-role incentive
    }
    for rep, payout in expected.items():
        assert out.loc[rep, "payout"] == pytest.approx(payout), rep
    assert out.loc["Ann", "note"].startswith("below threshold")
    assert out.loc["Cid", "note"].startswith("capped")
    assert out.loc["Bob", "note"].startswith("accelerator")
    # every figure is reproducible from the row
    recomputed = out["target_incentive"] * (
        out["individual_weight"] * out["individual_rate"] + out["team_weight"] * out["team_rate"]
    )
    pd.testing.assert_series_equal(recomputed, out["payout"], check_names=False)


def test_a_rep_without_a_quota_earns_only_the_team_part():
    opps, quotas, reps = payout_case()
    # by default (sales.compensation.eligible: quota) a rep without a quota in the month is not paid
    assert "Bob" not in set(sales.payouts(opps, quotas.query("rep != 'Bob'"), reps, PLAN, "2026-10")["rep"])
    plan = PLAN.model_copy(update={"eligible": "all"})
    out = sales.payouts(opps, quotas.query("rep != 'Bob'"), reps, plan, "2026-10").set_index("rep")
    assert out.loc["Bob", "note"] == "no quota" and out.loc["Bob", "individual_payout"] == 0
    # the team's quota no longer holds Bob's 100 but its won amount still holds his 120
    assert out.loc["Bob", "team_attainment"] == pytest.approx(440 / 300)


def test_missing_target_incentive_names_the_rep():
    opps, quotas, reps = payout_case()
    plan = CompensationPlan(target_incentive={"Ann": 1000.0})
    with pytest.raises(ParameterError, match="target_incentive has no amount for Bob"):
        sales.payouts(opps, quotas, reps, plan, "2026-10")


def test_plan_weights_must_add_up_to_one():
    with pytest.raises(ParameterError, match="must add up to 1"):
        so.params.validate({"sales": {"compensation": {"individual_weight": 0.6}}})
    with pytest.raises(ParameterError, match="not above threshold"):
        so.params.validate({"sales": {"compensation": {"threshold": 2.5}}})


# ---------------------------------------------------------------- eNPS
def answers(team, scores, month="2026-10-15", start=0):
    return [
        {"respondent": f"{team}{start + i}", "team": team, "date": T(month), "score": s}
        for i, s in enumerate(scores)
    ]


def test_enps_on_a_known_distribution():
    survey = frame(answers("T", [10, 10, 9, 9, 8, 7, 6, 5, 3, 0]) + answers("U", [9, 9, 9, 9, 9, 6]))
    out = sales.enps(survey, min_responses=5).set_index("team")
    assert out.loc["T", ["responses", "promoters", "passives", "detractors"]].tolist() == [10, 4, 2, 4]
    assert out.loc["T", "enps"] == pytest.approx(0.0)
    assert out.loc["U", "enps"] == pytest.approx(100 * (5 - 1) / 6)
    assert out.loc["All", "responses"] == 16
    assert out.loc["All", "enps"] == pytest.approx(100 * (9 - 5) / 16)
    assert not out["suppressed"].any()


def test_enps_counts_each_respondent_once_per_month_and_tracks_the_trend():
    survey = frame(
        answers("T", [0, 0, 0, 0, 0], "2026-09-10")
        + answers("T", [10] * 5, "2026-10-10")
        + [{"respondent": "T0", "team": "T", "date": T("2026-10-20"), "score": 0}]
    )  # T0 answers again
    out = sales.enps(survey, min_responses=5)
    october = out.loc[(out["team"] == "T") & (out["month"] == T("2026-10-01"))].iloc[0]
    assert october["responses"] == 5 and october["detractors"] == 1  # T0's last answer counts
    assert october["enps"] == pytest.approx(60.0)
    assert october["change"] == pytest.approx(60.0 - (-100.0))


def test_small_teams_are_suppressed_and_cannot_be_recovered_from_the_company_row():
    survey = frame(answers("big", [9] * 10) + answers("mid", [0] * 6) + answers("tiny", [10, 0, 0]))
    reps = frame(
        [
            {"rep": f"r{i}", "team": t, "region": "X"}
            for i, t in enumerate(["big"] * 12 + ["mid"] * 6 + ["tiny"] * 4)
        ]
    )
    out = sales.enps(survey, reps, min_responses=5).set_index("team")
    assert out.loc["tiny", "suppressed"]
    assert out.loc["tiny", ["promoters", "passives", "detractors", "enps"]].isna().all()
    assert out.loc["tiny", "responses"] == 3 and out.loc["tiny", "response_rate"] == pytest.approx(3 / 4)
    # All minus the published teams would reveal "tiny": the smallest other team is hidden too
    assert out.loc["mid", "suppressed"] and pd.isna(out.loc["mid", "enps"])
    assert not out.loc["big", "suppressed"] and not out.loc["All", "suppressed"]
    assert out.loc["All", "enps"] == pytest.approx(100 * (11 - 8) / 19)
    assert out.loc["big", "response_rate"] == pytest.approx(10 / 12)


def test_two_small_teams_need_no_extra_suppression():
    survey = frame(answers("big", [9] * 10) + answers("a", [10, 0]) + answers("b", [0, 0, 7]))
    out = sales.enps(survey, min_responses=5).set_index("team")
    assert out["suppressed"].to_dict() == {"All": False, "a": True, "b": True, "big": False}


def test_small_teams_hidden_together_must_still_reach_the_minimum():
    survey = frame(
        answers("big", [9] * 10)
        + answers("mid", [0] * 6)
        + answers("midi", [7] * 5)
        + answers("a", [10])
        + answers("b", [0, 0])
    )
    out = sales.enps(survey, min_responses=5).set_index("team")
    # a + b hold 3 answers: All minus the published teams would reveal them, so "midi" (5) is hidden too
    assert out["suppressed"].to_dict() == {
        "All": False,
        "a": True,
        "b": True,
        "big": False,
        "mid": False,
        "midi": True,
    }


def test_enps_question_filter_and_missing_column():
    survey = frame(
        [dict(a, question="recommend") for a in answers("T", [10] * 5)]
        + [dict(a, question="tools") for a in answers("T", [0] * 5)]
    )
    out = sales.enps(survey, min_responses=5, question="recommend")
    assert out.set_index("team").loc["T", "enps"] == pytest.approx(100.0)
    with pytest.raises(DataError, match="survey: missing column"):
        sales.enps(survey.drop(columns="score"))


# ---------------------------------------------------------------- pipeline
def history(won: int, lost: int) -> list[dict]:
    rows = [deal(i, "Ann", "won", 100.0, "2026-03-01", "2026-05-01") for i in range(won)]
    rows += [deal(100 + i, "Ann", "lost", 100.0, "2026-03-01", "2026-05-01") for i in range(lost)]
    return rows


OPEN = [
    deal(900, "Ann", "prospecting", 1000.0, "2026-10-01", sku="A"),
    deal(901, "Ann", "proposal", 1000.0, "2026-10-01", "2026-12-15", sku="B"),
    deal(902, "Ann", "proposal", 500.0, "2026-10-01", "2026-11-20"),
]
PRODUCTS = frame(
    [{"sku": "A", "family": "fa", "unit_price": 10.0}, {"sku": "B", "family": "fb", "unit_price": 50.0}]
)


def test_stage_win_rates_are_learned_from_closed_deals():
    opps = frame(history(6, 3) + OPEN)
    probs = sales.stage_probabilities(opps, AS_OF).set_index("stage")
    # 3 lost deals spread over open stages as the open deals are: 1/3 prospecting, 2/3 proposal
    assert probs.loc["prospecting", "win_probability"] == pytest.approx(6 / (6 + 3))
    assert probs.loc["proposal", "win_probability"] == pytest.approx(6 / (6 + 2))
    assert "qualified" not in probs.index  # no deal uses the stage
    # a history with more losses learns lower probabilities
    worse = sales.stage_probabilities(frame(history(2, 6) + OPEN), AS_OF).set_index("stage")
    assert worse.loc["proposal", "win_probability"] == pytest.approx(2 / (2 + 4))


def test_lost_stage_column_gives_exact_stage_rates():
    rows = history(4, 0) + [
        dict(deal(200 + i, "Ann", "lost", 100.0, "2026-03-01", "2026-05-01"), lost_stage=s)
        for i, s in enumerate(["prospecting", "prospecting", "proposal"])
    ]
    probs = sales.stage_probabilities(frame(rows + OPEN), AS_OF).set_index("stage")
    assert probs.loc["prospecting", "win_probability"] == pytest.approx(4 / 7)
    assert probs.loc["proposal", "win_probability"] == pytest.approx(4 / 5)


def test_pipeline_forecast_differs_when_history_differs():
    good, bad = frame(history(6, 3) + OPEN), frame(history(2, 6) + OPEN)
    forecasts = []
    for opps in (good, bad):
        pipe = sales.open_pipeline(opps, AS_OF, sales.stage_probabilities(opps, AS_OF))
        forecasts.append(sales.pipeline_forecast(pipe, PRODUCTS).set_index(["ds", "sku"]))
    good_fc, bad_fc = forecasts
    # deal 901 (proposal, 1000, SKU B at 50) closes in December as the CRM says
    assert good_fc.loc[(T("2026-12-01"), "B"), "amount"] == pytest.approx(1000 * 6 / 8)
    assert good_fc.loc[(T("2026-12-01"), "B"), "units"] == pytest.approx(1000 * 6 / 8 / 50)
    assert bad_fc.loc[(T("2026-12-01"), "B"), "amount"] == pytest.approx(1000 * 2 / 6)
    assert good_fc.loc[(T("2026-12-01"), "B"), "family"] == "fb"


def test_open_deals_close_after_the_typical_remaining_cycle():
    # won deals took 10, 20, 30, 40 and 100 days; an open deal 25 days old: median of (30, 40, 100) - 25
    won = [
        deal(i, "Ann", "won", 100.0, T("2026-06-01"), T("2026-06-01") + pd.Timedelta(days=d))
        for i, d in enumerate([10, 20, 30, 40, 100])
    ]
    open_ = [
        deal(50, "Ann", "proposal", None, AS_OF - pd.Timedelta(days=25), sku="A"),
        deal(51, "Ann", "proposal", 300.0, "2025-01-01", "2026-09-30", sku=None),
    ]  # slipped, very old
    opps = frame(won + open_)
    pipe = sales.open_pipeline(opps, AS_OF, sales.stage_probabilities(opps, AS_OF)).set_index(
        "opportunity_id"
    )
    assert pipe.loc["o50", "expected_close"] == AS_OF + pd.Timedelta(days=15)
    assert pipe.loc["o50", "amount_imputed"] and pipe.loc["o50", "amount"] == pytest.approx(100.0)
    assert pipe.loc["o51", "slipped"] and pipe.loc["o51", "stale"] and not pipe.loc["o50", "slipped"]
    assert pipe.loc["o51", "expected_close"] == AS_OF + pd.Timedelta(days=sales.pipeline.FALLBACK_DAYS)
    forecast = sales.pipeline_forecast(pipe.reset_index(), PRODUCTS)
    no_sku = forecast.loc[forecast["sku"].isna()].iloc[0]
    assert pd.isna(no_sku["units"]) and pd.isna(no_sku["family"]) and no_sku["amount"] > 0
    assert list(sales.slippage(pipe.reset_index())["opportunity_id"]) == ["o51"]


def test_funnel_counts_and_conversions():
    opps = frame(history(6, 3) + OPEN)
    probs = sales.stage_probabilities(opps, AS_OF)
    out = sales.funnel(opps, AS_OF, probs).set_index("stage")
    # reached: prospecting = everything (12); proposal = won 6 + open 2 + lost spread there 2 = 10
    assert out.loc["prospecting", "reached"] == pytest.approx(12)
    assert out.loc["proposal", "reached"] == pytest.approx(10)
    assert out.loc["prospecting", "conversion_to_next"] == pytest.approx(10 / 12)
    assert out.loc["proposal", "conversion_to_next"] == pytest.approx(6 / 10)
    assert out.loc["won", "opportunities"] == 6 and out.loc["lost", "opportunities"] == 3


def test_velocity():
    assert sales.velocity(40, 0.25, 1000.0, 50.0) == pytest.approx(40 * 0.25 * 1000 / 50)
    assert np.isnan(sales.velocity(40, 0.25, 1000.0, 0.0))


# ---------------------------------------------------------------- attainment and comparison
def test_attainment_month_quarter_year_and_rollups():
    opps = frame(
        [
            deal(1, "Ann", "won", 50.0, "2026-09-01", "2026-10-10"),
            deal(2, "Ann", "won", 120.0, "2026-07-01", "2026-08-10"),
            deal(3, "Bob", "won", 30.0, "2026-09-01", "2026-10-12"),
            deal(4, "Bob", "proposal", 400.0, "2026-10-01", "2026-11-15"),
        ]
    )
    reps = frame([{"rep": "Ann", "team": "t1", "region": "r"}, {"rep": "Bob", "team": "t1", "region": "r"}])
    quotas = frame(
        [{"rep": r, "month": f"2026-{m:02d}", "quota": 100.0} for r in ("Ann", "Bob") for m in range(1, 13)]
    )
    probs = sales.stage_probabilities(opps, AS_OF)
    pipe = sales.open_pipeline(opps, AS_OF, probs)
    out = sales.attainment(opps, quotas, reps, pipe, AS_OF).set_index(["level", "name", "window"])
    ann_month = out.loc[("rep", "Ann", "month")]
    assert (ann_month["quota"], ann_month["won"], ann_month["attainment"]) == (100.0, 50.0, 0.5)
    assert ann_month["forecast"] == 50.0  # the month is over
    ann_q = out.loc[("rep", "Ann", "quarter")]
    assert ann_q["quota"] == 300.0 and ann_q["quota_to_date"] == 100.0 and ann_q["won"] == 50.0
    # run rate: 170 won in the last 90 days / 90 x 61 remaining days; no open deal for Ann
    assert ann_q["run_rate_remaining"] == pytest.approx(170 / 90 * 61)
    assert ann_q["forecast"] == pytest.approx(50 + (170 / 90 * 61 + 0) / 2)
    bob_q = out.loc[("rep", "Bob", "quarter")]
    p_proposal = probs.set_index("stage").loc["proposal", "win_probability"]
    assert bob_q["pipeline_remaining"] == pytest.approx(400 * p_proposal)
    assert out.loc[("rep", "Ann", "year"), "won"] == 170.0
    for window in ("month", "quarter", "year"):
        for col in ("quota", "won", "forecast"):
            reps_total = out.loc[("rep", "Ann", window), col] + out.loc[("rep", "Bob", window), col]
            assert out.loc[("team", "t1", window), col] == pytest.approx(reps_total)
            assert out.loc[("company", "All", window), col] == pytest.approx(reps_total)
    assert out.loc[("rep", "Bob", "month"), "status"] == "behind"


def test_robust_z_matches_scipy_mad():
    values = pd.Series([3.0, 4.0, 4.5, 5.0, 5.5, 30.0])
    mad = stats.median_abs_deviation(values, scale="normal")
    expected = (values - values.median()) / mad
    pd.testing.assert_series_equal(sales.robust_z(values), expected, rtol=1e-4)
    assert sales.robust_z(pd.Series([1.0, 2.0])).isna().all()


def test_rep_outlier_flagged_against_its_team_and_explained():
    rows, i = [], 0
    for rep, wins in {"a": 5, "b": 5, "c": 6, "d": 4, "e": 1}.items():  # of 10 closed deals each
        for k in range(10):
            rows.append(deal(i, rep, "won" if k < wins else "lost", 100.0, "2026-06-01", "2026-08-01"))
            i += 1
    reps = frame([{"rep": r, "team": "t", "region": "x"} for r in "abcde"])
    opps = frame(rows)
    pipe = sales.open_pipeline(opps, AS_OF, sales.stage_probabilities(opps, AS_OF))
    quotas = pd.DataFrame(columns=["rep", "month", "quota"])
    out = sales.rep_comparison(opps, quotas, reps, pipe, AS_OF, 12, outlier_z=2.0).set_index("rep")
    assert out.loc["e", "win_rate"] == pytest.approx(0.1)
    assert out["outlier"].to_dict() == {"a": False, "b": False, "c": False, "d": False, "e": True}
    assert "win rate 10% below team median 50%" in out.loc["e", "outlier_note"]
    ranked = sales.performers(out.reset_index(), n=1)
    assert ranked["rep"].tolist() == ["c", "e"]  # no quotas: ranked by won amount
    assert "win rate 10% vs median 50%" in ranked.iloc[1]["why"]


def test_missing_columns_are_named():
    with pytest.raises(DataError, match="opportunities: missing column.*close_date"):
        sales.stage_probabilities(frame(history(1, 1)).drop(columns="close_date"), AS_OF)


def test_empty_tables_give_empty_products():
    p = so.params.validate({"period": "2026-11"})
    sp = sales.SalesPerformance({}, p)
    for name in sales.PRODUCTS:
        if name == "win_model_evaluation":  # says which probabilities were used, even without deals
            assert getattr(sp, name).set_index("model")["used"].to_dict() == {
                "stage": True,
                "features": False,
            }
            continue
        assert getattr(sp, name).empty, name
    assert list(sp.pipeline_forecast.columns) == ["ds", "sku", "family", "units", "amount"]
