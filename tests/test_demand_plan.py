"""Hierarchy, consensus (pipeline blend, overrides) and the step function `salesops.demand.run`."""

import numpy as np
import pandas as pd
import pytest

from salesops.demand import consensus, hierarchy, run
from salesops.params import DemandParams, Override

TAGS = pd.DataFrame({"unique_id": ["a", "b", "c"], "family": ["F", "F", "G"]})
MONTHS = pd.date_range("2026-01", periods=2, freq="MS")


def sku_frame(values):
    return pd.DataFrame(
        {"unique_id": np.repeat(["a", "b", "c"], 2), "ds": np.tile(MONTHS, 3), "yhat": values}
    )


def test_bottom_up_sums_skus_into_families_and_total():
    out = hierarchy.reconcile(sku_frame([1.0, 2, 3, 4, 5, 6]), TAGS)
    fam = out[out["level"] == "family"].set_index(["unique_id", "ds"])["yhat"]
    assert fam[("F", MONTHS[0])] == 1 + 3 and fam[("G", MONTHS[1])] == 6
    assert out[out["level"] == "total"]["yhat"].tolist() == [1 + 3 + 5, 2 + 4 + 6]


@pytest.mark.parametrize("method", ["mint_wls", "ols"])
def test_optimal_reconciliation_is_coherent_and_matches_the_formula(method):
    sku = sku_frame([1.0, 2, 3, 4, 5, 6]).assign(level="sku")
    upper = pd.DataFrame(
        {
            "level": ["family", "family", "family", "family", "total", "total"],
            "unique_id": ["F", "F", "G", "G", "Total", "Total"],
            "ds": np.tile(MONTHS, 3),
            "yhat": [5.0, 7, 4, 7, 12, 14],
        }
    )
    out = hierarchy.reconcile(pd.concat([sku, upper]), TAGS, method)
    wide = out.pivot_table(index="ds", columns="unique_id", values="yhat")
    assert np.allclose(wide["F"], wide["a"] + wide["b"]) and np.allclose(wide["Total"], wide["F"] + wide["G"])
    # independent projection: nodes ordered Total, F, G, a, b, c
    S = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    W = np.diag(S.sum(axis=1)) if method == "mint_wls" else np.eye(6)
    yhat = np.array([12, 5, 4, 1, 3, 5.0])
    expected = S @ np.linalg.inv(S.T @ np.linalg.inv(W) @ S) @ S.T @ np.linalg.inv(W) @ yhat
    first = out[out["ds"] == MONTHS[0]].set_index("unique_id")["yhat"]
    assert first[["Total", "F", "G", "a", "b", "c"]].tolist() == pytest.approx(expected.tolist())


def test_mint_without_upper_forecasts_says_what_is_missing():
    with pytest.raises(Exception, match="needs base forecasts for every node"):
        hierarchy.reconcile(sku_frame([1.0] * 6), TAGS, "mint_wls")


def test_pipeline_units_allocation():
    stat = pd.DataFrame({"unique_id": ["a", "b", "c"], "ds": MONTHS[0], "statistical": [10.0, 30.0, 60.0]})
    pipe = pd.DataFrame(
        {
            "ds": [MONTHS[0]] * 3,
            "sku": ["a", None, None],
            "family": ["F", "F", None],
            "units": [5.0, 8.0, 10.0],
            "amount": [1.0, 1.0, 1.0],
        }
    )
    out = consensus.pipeline_units(pipe, stat, TAGS).set_index("unique_id")["pipeline"]
    # family F's 8 units split 10:30; the unassigned 10 units split 10:30:60
    assert out["a"] == pytest.approx(5 + 2 + 1)
    assert out["b"] == pytest.approx(6 + 3)
    assert out["c"] == pytest.approx(6)
    assert consensus.pipeline_units(pipe.iloc[0:0], stat, TAGS).empty


def test_blend_weight_least_squares_by_hand():
    ev = pd.DataFrame(
        {"y": [12.0, 9.0, 20.0], "statistical": [10.0, 10.0, 10.0], "pipeline": [14.0, 8.0, 30.0]}
    )
    # w = sum((y-s)(p-s)) / sum((p-s)^2) = (8 + 2 + 200) / (16 + 4 + 400)
    bw = consensus.blend_weight(ev)
    assert bw.weight == pytest.approx(210 / 420, abs=1e-4) and bw.observations == 3
    assert bw.helps and bw.wape_blended < bw.wape_statistical
    assert consensus.blend_weight(pd.DataFrame()).weight == 0.0
    far = pd.DataFrame({"y": [10.0], "statistical": [10.0], "pipeline": [50.0]})
    assert consensus.blend_weight(far).weight == 0.0


def test_overrides_apply_and_are_audited():
    base = pd.DataFrame(
        {
            "unique_id": ["a", "b", "c"],
            "family": ["F", "F", "G"],
            "ds": MONTHS[0],
            "consensus": [10.0, 30.0, 5.0],
            "yhat_lo_80": [8.0, 24.0, 4.0],
        }
    )
    overrides = [
        Override(sku="c", month="2026-01", quantity=7, owner="Ana", reason="promo"),
        Override(family="F", month="2026-01", change_pct=-10, owner="Bo", reason="price rise"),
        Override(sku="zz", month="2026-01", quantity=1, owner="Cy", reason="typo"),
        Override(sku="a", month="2030-01", quantity=1, owner="Di", reason="too far"),
    ]
    out, audit = consensus.apply_overrides(base, overrides, scale=("yhat_lo_80",))
    assert out["consensus"].tolist() == pytest.approx([9.0, 27.0, 7.0])
    assert out["yhat_lo_80"].tolist() == pytest.approx([7.2, 21.6, 4.0 * 7 / 5])
    applied = audit[audit["status"] == "applied"]
    assert applied[["unique_id", "before", "after", "owner"]].values.tolist() == [
        ["c", 5.0, 7.0, "Ana"],
        ["a", 10.0, 9.0, "Bo"],
        ["b", 30.0, 27.0, "Bo"],
    ]
    ignored = audit[audit["status"] != "applied"]["status"].tolist()
    assert "unknown SKU" in ignored[0] and "outside the plan" in ignored[1]


def test_family_quantity_override_is_shared_in_proportion():
    base = pd.DataFrame({"unique_id": ["a", "b"], "family": "F", "ds": MONTHS[0], "consensus": [10.0, 30.0]})
    out, _ = consensus.apply_overrides(
        base, [{"family": "F", "month": "2026-01", "quantity": 80.0, "owner": "Ana", "reason": "tender"}]
    )
    assert out["consensus"].tolist() == [20.0, 60.0]


def synthetic_history(skus=6, months=40):
    rng = np.random.default_rng(3)
    rows = []
    for i in range(skus):
        ds = pd.date_range("2023-07", periods=months, freq="MS")
        y = np.maximum(
            0, 40 + 5 * i + 10 * np.sin(2 * np.pi * np.arange(months) / 12) + rng.normal(0, 3, months)
        )
        rows.append(pd.DataFrame({"unique_id": f"K{i}", "ds": ds, "y": y.round()}))
    return pd.concat(rows, ignore_index=True)


def test_plan_products_are_complete_and_consistent(tmp_path):
    hist = synthetic_history()
    products = pd.DataFrame(
        {
            "sku": [f"K{i}" for i in range(6)],
            "family": ["X"] * 3 + ["Y"] * 3,
            "unit_price": 10.0,
            "unit_cost": 5.0,
        }
    )
    pipe = pd.DataFrame(
        {
            "ds": [pd.Timestamp("2026-11-01")],
            "sku": ["K0"],
            "family": ["X"],
            "units": [12.0],
            "amount": [120.0],
        }
    )
    params = DemandParams(
        horizon=6,
        backtest_windows=2,
        workers=1,
        overrides=[Override(sku="K1", month="2026-12", quantity=100, owner="Ana", reason="launch")],
    )
    dp = run(history=hist, products=products, pipeline=pipe, params=params, period="2026-11", out=tmp_path)
    products_ = dp.products
    assert set(products_) == {
        "forecast",
        "demand_plan",
        "error_stats",
        "backtest",
        "accuracy",
        "overrides_audit",
    }
    demand = dp.demand_plan
    assert demand.columns.tolist() == [
        "unique_id",
        "family",
        "ds",
        "statistical",
        "pipeline",
        "consensus",
        "yhat_lo_80",
        "yhat_hi_80",
        "yhat_lo_95",
        "yhat_hi_95",
    ]
    assert demand["ds"].min() == pd.Timestamp("2026-11-01") and len(demand) == 6 * 6
    assert (
        demand.loc[(demand["unique_id"] == "K1") & (demand["ds"] == "2026-12-01"), "consensus"].item() == 100
    )
    untouched = demand[~((demand["unique_id"] == "K1") & (demand["ds"] == "2026-12-01"))]
    assert np.allclose(untouched["consensus"], untouched["statistical"])  # no evidence yet: weight 0
    assert demand.loc[(demand["unique_id"] == "K0") & (demand["ds"] == "2026-11-01"), "pipeline"].item() == 12
    # error stats: sigma is the RMS of the 1-step backtest errors, recomputed here from the backtest
    bt = dp.backtest
    one = bt[(bt["unique_id"] == "K2") & (bt["step"] == 1)]
    sigma = dp.error_stats.set_index("unique_id").loc["K2", "sigma"]
    assert sigma == pytest.approx(np.sqrt(np.mean((one["y"] - one["yhat"]) ** 2)))
    assert set(dp.accuracy["model"]) >= {"seasonal naive", "statistical"}
    assert dp.overrides_audit["status"].tolist() == ["applied"]
    levels = dp.hierarchy.pivot_table(index="ds", columns="unique_id", values="yhat")
    assert np.allclose(levels["Total"], levels["X"] + levels["Y"])


def test_plan_learns_the_blend_from_an_earlier_cycle(tmp_path):
    hist = synthetic_history()
    earlier = tmp_path / "2026-09" / "data" / "demand_planning"
    earlier.mkdir(parents=True)
    past = hist[hist["ds"] >= "2026-09-01"].assign(
        family="X", statistical=lambda f: f["y"] - 10, pipeline=lambda f: f["y"] + 10
    )
    past = past.assign(consensus=past["statistical"])
    past.to_parquet(earlier / "demand_plan.parquet")
    products = pd.DataFrame(
        {"sku": [f"K{i}" for i in range(6)], "family": "X", "unit_price": 1.0, "unit_cost": 1.0}
    )
    pipe = pd.DataFrame(
        {
            "ds": [pd.Timestamp("2026-11-01")],
            "sku": ["K0"],
            "family": ["X"],
            "units": [1000.0],
            "amount": [1.0],
        }
    )
    dp = run(
        history=hist,
        products=products,
        pipeline=pipe,
        period="2026-11",
        out=tmp_path,
        params=DemandParams(horizon=3, backtest_windows=0, workers=1),
    )
    assert dp.blend.weight == pytest.approx(0.5) and dp.blend.observations == 12
    row = dp.demand_plan[(dp.demand_plan["unique_id"] == "K0") & (dp.demand_plan["ds"] == "2026-11-01")].iloc[
        0
    ]
    assert row["consensus"] == pytest.approx(row["statistical"] + 0.5 * (1000 - row["statistical"]))
    assert not dp.changes.empty or dp.changes.columns.tolist()[0] == "unique_id"


def test_model_mix_groups_fallbacks_and_recent_regimes():
    from salesops.demand.planning import model_mix

    fc = pd.DataFrame(
        {
            "unique_id": list("abcdef"),
            "model": [
                "ETS(A,Ad,M)",
                "ETS(A,N,N) (recent regime: 6 months)",
                "ARIMA(1,1,0)+season",
                "Naive (recent regime: 4 months)",
                "Naive (recent regime: 7 months)",
                "Theta (fallback: constant series)",
            ],
        }
    )
    mix = model_mix(fc).set_index("model")["skus"].to_dict()
    assert mix == {
        "Naive (recent regime)": 2,
        "ETS": 1,
        "ETS (recent regime)": 1,
        "ARIMA": 1,
        "Theta (fallback)": 1,
    }


def test_error_stats_wape_and_bias_are_fractions_of_actual_volume():
    from salesops.demand.planning import error_stats

    bt = pd.DataFrame(
        {
            "unique_id": "A",
            "cutoff": pd.Timestamp("2026-01-01"),
            "step": [1, 2, 1, 2],
            "ds": pd.to_datetime(["2026-02-01", "2026-03-01", "2026-03-01", "2026-04-01"]),
            "y": [10.0, 20.0, 30.0, 40.0],
            "yhat": [12.0, 18.0, 33.0, 40.0],
        }
    )
    history = pd.DataFrame(
        {"unique_id": "A", "ds": pd.date_range("2024-01-01", periods=26, freq="MS"), "y": np.arange(26.0)}
    )
    row = error_stats(bt, history).iloc[0]
    assert row["wape"] == pytest.approx((2 + 2 + 3 + 0) / 100)  # 0.07, not 7 %
    assert row["bias"] == pytest.approx((2 - 2 + 3 + 0) / 100)  # +0.03: over-forecast
    assert row["sigma"] == pytest.approx(np.sqrt((2**2 + 3**2) / 2))  # 1-step errors -2 and -3


def test_override_value_add_scores_each_earlier_override_against_actuals():
    def audit(rows):
        base = {"kind": "change_pct", "status": "applied"}
        return pd.DataFrame([{**base, **r} for r in rows])

    june = pd.Timestamp("2026-06-01")
    audits = {
        "2026-06": audit(
            [  # one family override touching two SKUs, and one SKU override
                {
                    "unique_id": "a",
                    "family": "F",
                    "ds": june,
                    "before": 100.0,
                    "after": 80.0,
                    "change": -20.0,
                    "value": -20.0,
                    "owner": "Bo",
                    "reason": "delisting",
                },
                {
                    "unique_id": "b",
                    "family": "F",
                    "ds": june,
                    "before": 50.0,
                    "after": 40.0,
                    "change": -10.0,
                    "value": -20.0,
                    "owner": "Bo",
                    "reason": "delisting",
                },
                {
                    "unique_id": "c",
                    "family": "G",
                    "ds": june,
                    "before": 10.0,
                    "after": 20.0,
                    "change": 10.0,
                    "value": 100.0,
                    "owner": "Ana",
                    "reason": "hope",
                },
            ]
        ),
        "2026-07": audit(
            [
                {
                    "unique_id": "a",
                    "family": "F",
                    "ds": pd.Timestamp("2026-12-01"),
                    "before": 5.0,
                    "after": 6.0,
                    "change": 1.0,
                    "value": 20.0,
                    "owner": "Ana",
                    "reason": "future",
                }
            ]
        ),
    }
    history = pd.DataFrame({"unique_id": ["a", "b", "c"], "ds": [june] * 3, "y": [85.0, 45.0, 10.0]})
    out = consensus.override_value_add(audits, history).set_index("reason")
    # delisting: without |100-85| + |50-45| = 20, with |80-85| + |40-45| = 10
    assert out.loc["delisting", ["error_without", "error_with", "value_add"]].tolist() == [20.0, 10.0, 10.0]
    assert out.loc["delisting", "target"] == "F (2 SKUs)" and out.loc["delisting", "verdict"] == "helped"
    assert out.loc["hope", "value_add"] == -10.0 and out.loc["hope", "verdict"] == "hurt"
    assert out.loc["future", "verdict"] == "not scored yet"
    assert out.index[0] == "future"  # newest cycle first
