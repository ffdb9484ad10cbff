"""salesops.demand models: shape of the API, hand-checkable forecasts, and no crash on awkward series."""

import numpy as np
import pytest

from salesops.demand import (
    ARIMA,
    ETS,
    SBA,
    TSB,
    AutoCombo,
    Croston,
    HistoricAverage,
    Naive,
    SeasonalNaive,
    Theta,
)
from salesops.demand.models import STLETS, is_intermittent, seasonality_test

ALL = [SeasonalNaive, Naive, HistoricAverage, ETS, Theta, ARIMA, STLETS, Croston, SBA, TSB, AutoCombo]
rng = np.random.default_rng(7)
MONTHS = np.arange(60)
SEASONAL = 100 + 20 * np.sin(2 * np.pi * MONTHS / 12) + rng.normal(0, 2, MONTHS.size)


def test_constructor_only_stores_arguments_and_fit_returns_self():
    model = ETS(season_length=4, alias="my_ets")
    assert model.alias == "my_ets" and model.season_length == 4
    assert not hasattr(model, "y_")
    assert model.fit(SEASONAL) is model


def test_predict_before_fit_says_what_to_do():
    with pytest.raises(ValueError, match="call fit"):
        Theta().predict(3)


def test_naive_and_seasonal_naive_by_hand():
    y = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    assert Naive().fit(y).predict(3)["mean"].tolist() == [8.0, 8.0, 8.0]
    assert SeasonalNaive(season_length=3).fit(y).predict(4)["mean"].tolist() == [6.0, 7.0, 8.0, 6.0]
    # naive sigma: diffs are all 1 -> sigma = sqrt(7/7) = 1, 95% interval at step 4: 8 +- 1.96*2
    p = Naive().fit(y).predict(4, level=[95])
    assert p["hi-95"][3] == pytest.approx(8 + 1.959964 * 2, rel=1e-4)


def test_croston_sba_tsb_by_hand():
    y = np.array([0, 4, 0, 0, 6.0])
    # sizes 4, 6 -> SES(0.5): 4 then 5; intervals 2, 3 -> 2 then 2.5; rate 5/2.5 = 2
    assert Croston(alpha=0.5).fit(y).predict(2)["mean"].tolist() == [2.0, 2.0]
    assert SBA(alpha=0.5).fit(y).predict(1)["mean"][0] == pytest.approx(2.0 * 0.75)
    # TSB(0.5, 0.5): p0 = 2/5, z0 = 4; updates over 0,4,0,0,6
    p, z = 0.4, 4.0
    for v in y:
        p += 0.5 * ((v != 0) - p)
        if v:
            z += 0.5 * (v - z)
    assert TSB(alpha_d=0.5, alpha_p=0.5).fit(y).predict(1)["mean"][0] == pytest.approx(p * z)


def test_seasonality_test_and_intermittency():
    assert seasonality_test(SEASONAL, 12)
    assert not seasonality_test(rng.normal(100, 5, 60), 12)
    assert not seasonality_test(SEASONAL[:30], 12)  # under three seasons
    assert is_intermittent(np.array([0, 0, 3, 0, 0, 5, 0, 0, 0, 2.0]))
    assert not is_intermittent(SEASONAL)


@pytest.mark.parametrize("cls", [ETS, Theta, ARIMA, AutoCombo])
def test_strong_models_follow_a_clear_seasonal_pattern(cls):
    fitted = cls().fit(SEASONAL[:48])
    mean = fitted.predict(12)["mean"]
    truth = 100 + 20 * np.sin(2 * np.pi * MONTHS[48:] / 12)
    assert np.mean(np.abs(mean - truth)) < 6, fitted.model_
    assert fitted.alias in ("ETS", "Theta", "ARIMA", "AutoCombo")


def test_intervals_are_ordered_and_widen_with_level():
    p = AutoCombo().fit(SEASONAL).predict(6, level=[80, 95])
    assert np.all(p["lo-95"] <= p["lo-80"]) and np.all(p["lo-80"] <= p["mean"])
    assert np.all(p["mean"] <= p["hi-80"]) and np.all(p["hi-80"] <= p["hi-95"])
    assert p["hi-95"][-1] - p["lo-95"][-1] > 0


AWKWARD = {
    "one point": np.array([5.0]),
    "two points": np.array([5.0, 7.0]),
    "constant": np.full(30, 3.0),
    "all zeros": np.zeros(24),
    "intermittent": np.tile([0, 0, 4, 0, 0, 0, 2, 0.0], 6),
    "negative": -np.arange(40.0) + rng.normal(0, 1, 40),
    "crosses zero": np.sin(np.arange(50.0)) * 10,
    "short seasonal": SEASONAL[:14],
    "huge jump": np.r_[np.ones(30), np.full(6, 1e6)],
}


@pytest.mark.parametrize("name", list(AWKWARD))
@pytest.mark.parametrize("cls", ALL)
def test_awkward_series_never_crash_and_forecasts_are_sane(cls, name):
    y = AWKWARD[name]
    model = cls().fit(y)
    p = model.predict(18, level=[80, 95])
    assert set(p) == {"mean", "lo-80", "hi-80", "lo-95", "hi-95"}
    assert all(np.all(np.isfinite(v)) and v.shape == (18,) for v in p.values())
    assert np.max(np.abs(p["mean"])) <= 10 * max(np.max(np.abs(y)), 1e-9)
    if np.all(y >= 0):
        assert np.all(p["mean"] >= 0) and np.all(p["lo-95"] >= 0)
    assert isinstance(model.model_, str) and model.model_


def test_fallback_is_named():
    model = ETS().fit(np.array([1.0, 2.0]))
    assert "fallback" in model.model_ and model.model_.startswith("Naive")
    assert AutoCombo().fit(np.full(20, 4.0)).model_ == "Naive (fallback: constant series)"


def test_intermittent_series_use_sba_and_tsb():
    y = AWKWARD["intermittent"]
    model = AutoCombo().fit(y)
    assert model.model_ == "Combo(SBA,TSB)"
    expected = (SBA().fit(y).predict(12)["mean"] + TSB().fit(y).predict(12)["mean"]) / 2
    # months of the year with no demand in both of the last two years are forecast as zero
    zero_both_years = (y[-24:-12] == 0) & (y[-12:] == 0)
    assert zero_both_years.any() and not zero_both_years.all()
    mean = model.predict(12)["mean"]
    assert mean[zero_both_years].tolist() == [0.0] * int(zero_both_years.sum())
    assert mean[~zero_both_years] == pytest.approx(expected[~zero_both_years])


def test_combination_is_the_mean_of_members():
    model = AutoCombo().fit(SEASONAL)
    members = model.member_forecasts(5)
    used = [members[c.alias]["mean"] for c in model.used_]
    assert model.predict(5)["mean"] == pytest.approx(np.mean(used, axis=0))
    assert AutoCombo(combine="median").fit(SEASONAL).predict(5)["mean"] == pytest.approx(
        np.median(used, axis=0)
    )


def test_months_without_demand_in_the_last_two_years_stay_zero():
    pattern = np.array([0, 0, 5, 8, 9, 7, 6, 5, 4, 3, 6, 7.0])  # ADI 1.2: not intermittent
    y = np.tile(pattern, 5) * (1 + 0.01 * np.arange(60))
    mean = AutoCombo().fit(y).predict(12)["mean"]
    assert mean[:2].tolist() == [0.0, 0.0] and np.all(mean[2:] > 0)


def test_recent_regime_start_by_hand():
    from salesops.demand.auto import recent_regime_start

    restart = np.r_[np.full(24, 5.0), np.zeros(12), [1.0, 2, 1, 3, 2, 1]]
    assert recent_regime_start(restart) == 36  # the first month after a season of zeros
    collapse = np.r_[np.full(30, 100.0), np.full(6, 3.0)]
    assert recent_regime_start(collapse) == 30  # 18 < 0.2 x 600 the same months a year earlier
    # seasonal troughs, growth and short zero gaps are no breaks
    assert recent_regime_start(SEASONAL) == 0
    assert recent_regime_start(np.r_[np.full(30, 10.0), np.full(6, 50.0)]) == 0
    assert recent_regime_start(np.r_[np.full(20, 5.0), np.zeros(11), np.full(6, 5.0)]) == 0


def test_autocombo_forecasts_the_recent_regime_after_a_collapse():
    y = np.r_[100 + 10 * np.sin(np.arange(36) * np.pi / 6), [3.0, 4, 3, 3, 4, 3, 3, 4]]
    model = AutoCombo().fit(y)
    assert model.model_.endswith("(recent regime: 8 months)")
    mean = model.predict(6)["mean"]
    assert np.all((mean > 2.5) & (mean < 4.5))  # the old level of about 100 is gone


def test_an_older_collapse_starts_the_regime_at_its_deepest_month():
    from salesops.demand.auto import recent_regime_start

    season = 1 + 0.5 * np.sin(2 * np.pi * np.arange(120) / 12)
    y = np.r_[np.full(60, 2000.0), np.full(60, 100.0)] * season  # a year's demand fell to a twentieth
    assert recent_regime_start(y) == 60
    y = np.r_[np.full(60, 2000.0), np.full(60, 1000.0)] * season  # halved: a change, not a collapse
    assert recent_regime_start(y) == 0
    model = AutoCombo().fit(y=np.r_[np.full(60, 2000.0), np.full(60, 100.0)] * season)
    assert model.model_.endswith("(recent regime: 60 months)")
    assert np.max(model.predict(24)["mean"]) < 200  # no trend fitted across the fall


def test_multiplicative_seasonality_when_only_old_history_has_zeros():
    from salesops.demand.models import multiplicative_ok

    swing = np.tile([10.0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], 10)  # peaks 1,000 x troughs
    early_zeros = swing.copy()
    early_zeros[[0, 5, 13]] = 0
    assert multiplicative_ok(swing, 12) and multiplicative_ok(early_zeros, 12)
    recent_zero = swing.copy()
    recent_zero[-30] = 0
    assert not multiplicative_ok(recent_zero, 12) and not multiplicative_ok(swing - 5, 12)
    for cls in (ETS, Theta, ARIMA):
        model = cls().fit(early_zeros)
        assert model.fallback_ is None, model.model_
        mean = model.predict(12)["mean"]
        # additive seasonality would put the troughs hundreds of units off; multiplicative keeps the ratio
        assert mean[1] < 30 and mean[11] > 500, (cls.__name__, mean.round())
    assert ETS().fit(early_zeros).model_.endswith(",M)")


def test_seasonal_naive_joins_the_combination_on_seasonal_series_only():
    assert "SeasonalNaive" in AutoCombo().fit(SEASONAL).member_forecasts(3)
    trend = 50 + np.arange(60) + rng.normal(0, 1, 60)
    assert AutoCombo().fit(trend).model_ == "Combo(ETS,Theta,ARIMA,DampedETS)"
    model = AutoCombo().fit(SEASONAL)
    members = model.member_forecasts(6)
    expected = np.mean([members[c.alias]["mean"] for c in model.used_], axis=0)
    np.testing.assert_allclose(model.predict(6)["mean"], expected)


def test_theta_intervals_match_statsmodels_arima_based_variance():
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = 50 + np.cumsum(rng.normal(0.3, 2, 60))
    ours = Theta(season_length=1).fit(y).predict(12, level=[95])
    ref = ThetaModel(y, deseasonalize=False).fit().prediction_intervals(12, alpha=0.05)
    width_ref = (ref["upper"] - ref["lower"]).to_numpy()
    assert ours["hi-95"] - ours["lo-95"] == pytest.approx(width_ref, rel=0.2)


def test_predict_gives_the_same_steps_for_any_horizon():
    for cls in (ETS, Theta, ARIMA):
        model = cls().fit(SEASONAL)
        short, long = model.predict(6, level=[80]), model.predict(30, level=[80])
        for key in short:
            assert short[key] == pytest.approx(long[key][:6])


def test_stlets_is_stl_then_damped_exponential_smoothing_by_statsmodels():
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from statsmodels.tsa.seasonal import STL

    y = SEASONAL * np.exp(0.01 * MONTHS)  # positive: modelled on logs
    x = np.log(y)
    seasonal = STL(x, period=12, robust=True).fit().seasonal
    es = ExponentialSmoothing(x - seasonal, trend="add", damped_trend=True, initialization_method="estimated")
    expected = np.exp(es.fit(use_brute=False).forecast(15) + np.tile(seasonal[-12:], 2)[:15])
    model = STLETS().fit(y)
    assert model.model_ == "STL+ETS(A,Ad,N) on logs"
    p = model.predict(15, level=[80])
    np.testing.assert_allclose(p["mean"], expected, rtol=1e-9)
    relative_width = (p["hi-80"] - p["lo-80"]) / p["mean"]  # on logs: the band scales with the forecast
    assert np.all(p["lo-80"] < p["mean"]) and np.all(np.diff(relative_width) >= 0)
    assert "fallback" in STLETS().fit(y[:30]).model_  # under three seasons


def test_default_adds_damped_ets_and_stl_ets_members():
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = AutoCombo().fit(SEASONAL)
    assert model.model_ == "Combo(ETS,Theta,ARIMA,DampedETS,SeasonalNaive,STLETS)"
    members = model.member_forecasts(6)
    # the damped member is Holt-Winters with an additive damped trend (multiplicative seasonality here)
    hw = ExponentialSmoothing(
        SEASONAL,
        trend="add",
        damped_trend=True,
        seasonal="mul",
        seasonal_periods=12,
        initialization_method="heuristic",
    ).fit(use_brute=False, method="least_squares")
    np.testing.assert_allclose(members["DampedETS"]["mean"], hw.forecast(6), rtol=1e-6)
    np.testing.assert_allclose(members["STLETS"]["mean"], STLETS().fit(SEASONAL).predict(6)["mean"])
    expected = np.mean([members[k]["mean"] for k in members], axis=0)
    np.testing.assert_allclose(model.predict(6)["mean"], expected)
