"""salesops.demand.intervals: conformal calibration of the bands and coherent bands of sums (families)."""

import numpy as np
import pandas as pd
import pytest

from salesops.demand import HistoricAverage, backtest, forecast
from salesops.demand.intervals import (
    calibrate,
    cross_calibrate,
    error_correlation,
    interval_scales,
    sum_bands,
)
from salesops.metrics import coverage, normal_quantile


def _rows(rng, n_series, steps, true_sd, model_sd):
    """Backtest-shaped rows whose model believes sd `model_sd` while errors have sd `true_sd`."""
    uid = np.repeat([f"s{i}" for i in range(n_series)], steps)
    step = np.tile(np.arange(1, steps + 1), n_series)
    frame = pd.DataFrame({"unique_id": uid, "step": step, "yhat": 100.0})
    frame["y"] = 100.0 + rng.standard_t(5, len(frame)) * true_sd * np.sqrt(step)
    for lv in (80, 95):
        half = normal_quantile(lv) * model_sd * np.sqrt(step)
        frame[f"yhat_lo_{lv}"], frame[f"yhat_hi_{lv}"] = 100.0 - half, 100.0 + half
    return frame


def test_conformal_multipliers_make_the_bands_hold_their_level_out_of_sample():
    rng = np.random.default_rng(0)
    past, future = _rows(rng, 300, 6, 2.0, 1.0), _rows(rng, 2000, 6, 2.0, 1.0)
    assert coverage(future["y"], future["yhat_lo_80"], future["yhat_hi_80"]) < 0.6  # too narrow as fitted
    scales = interval_scales(past, (80, 95))
    assert scales["step"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert (scales["errors"] >= 600).all()  # three steps pooled
    fixed = calibrate(future, scales, (80, 95))
    assert coverage(fixed["y"], fixed["yhat_lo_80"], fixed["yhat_hi_80"]) == pytest.approx(0.80, abs=0.03)
    assert coverage(fixed["y"], fixed["yhat_lo_95"], fixed["yhat_hi_95"]) == pytest.approx(0.95, abs=0.02)
    # the multiplier is the split-conformal quantile of |error| / scale (scale read from the 95% bound)
    near = past[past["step"] <= 2]
    z = np.sort(np.abs(near["y"] - 100.0) / np.sqrt(near["step"]))
    assert scales.loc[0, "q"] == pytest.approx(z[int(np.ceil((z.size + 1) * 0.8)) - 1])
    # steps past the backtest reuse the last multiplier; too few errors keep the normal quantile
    longer = _rows(rng, 2, 9, 1.0, 1.0)
    out = calibrate(longer, scales, (80,))
    q9 = (out["yhat_hi_80"] - 100.0) / 3.0
    assert q9[longer["step"] == 9].iloc[0] == pytest.approx(
        scales.query("step == 6 and level == 80")["q"].item()
    )
    few = interval_scales(past.head(20), (80,))
    assert few["q"].eq(normal_quantile(80)).all()


def test_lower_bounds_stay_at_or_above_zero_for_nonnegative_series():
    rng = np.random.default_rng(1)
    rows = _rows(rng, 100, 3, 40.0, 10.0)
    out = calibrate(rows, interval_scales(rows, (80, 95)), (80, 95))
    assert (out["yhat_lo_95"] >= 0).all() and (out["yhat_lo_95"] == 0).any()
    assert (out["yhat_hi_95"] > out["yhat_hi_80"]).all()


def _family_history(families=6, skus=5, months=64, rho=0.5, seed=3):
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01", periods=months, freq="MS")
    rows, tags = [], []
    for f in range(families):
        shock = rng.normal(size=months)
        for k in range(skus):
            noise = np.sqrt(rho) * shock + np.sqrt(1 - rho) * rng.normal(size=months)
            uid = f"F{f}-{k}"
            rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": 200.0 + 20 * (k + 1) * noise}))
            tags.append((uid, f"F{f}"))
    return pd.concat(rows, ignore_index=True), pd.Series(dict(tags), name="family")


def test_family_bands_from_a_backtest_cover_80_percent_and_are_narrower_than_summed_sku_bands():
    hist, family = _family_history()
    # rolling origins 1 month apart, horizon 3: the first 16 origins learn multipliers and correlations,
    # the last 14 are scored out of sample
    bt = backtest(hist, 3, windows=30, step=1, models=[HistoricAverage()], workers=1, min_train=24)
    cutoffs = sorted(bt["cutoff"].unique())
    learn, score = bt[bt["cutoff"].isin(cutoffs[:16])], bt[bt["cutoff"].isin(cutoffs[16:])]
    learn = calibrate(learn, interval_scales(learn, (80, 95)), (80, 95))
    rho = error_correlation(learn, family, (80, 95))
    assert rho.between(0, 1).all() and 0.25 < rho.mean() < 0.75, rho  # 0.5 planted; ~19 months seen
    inside, rows = [], 0
    for cutoff, part in score.groupby("cutoff"):
        part = calibrate(part, interval_scales(learn, (80, 95)), (80, 95))
        bands = sum_bands(part, family, (80, 95), bt=learn)
        fam = bands[bands["level"] == "family"].rename(columns={"unique_id": "family"})
        part = part.assign(family=part["unique_id"].map(family))
        sums = part.groupby(["family", "ds"], as_index=False)[["y", "yhat", "yhat_lo_80", "yhat_hi_80"]].sum()
        both = fam.merge(sums.rename(columns={"yhat": "summed"}), on=["family", "ds"])
        assert len(both) == 6 * 3 and np.allclose(both["yhat"], both["summed"])
        # narrower than the sum of the SKUs' bands, and around the summed forecast
        ratio = (both["hi_80"] - both["lo_80"]) / (both["yhat_hi_80"] - both["yhat_lo_80"])
        assert (ratio <= 1 + 1e-9).all() and ratio.mean() < 0.9, ratio
        inside.append(((both["y"] >= both["lo_80"]) & (both["y"] <= both["hi_80"])).to_numpy())
        total = bands[bands["level"] == "total"]
        assert len(total) == 3 and np.allclose(total["yhat"], sums.groupby("ds")["yhat"].sum())
        rows += len(both)
    cover = np.concatenate(inside).mean()
    assert rows == 14 * 18
    assert cover == pytest.approx(0.80, abs=0.08), cover


def test_cross_calibration_leaves_each_origin_out():
    rng = np.random.default_rng(2)
    a, b = _rows(rng, 200, 3, 2.0, 1.0), _rows(rng, 200, 3, 1.0, 1.0)
    bt = pd.concat([a.assign(cutoff=1), b.assign(cutoff=2)], ignore_index=True)
    out = cross_calibrate(bt, (80,))
    # origin 1 is calibrated with origin 2's (smaller) errors, and the other way round
    pd.testing.assert_frame_equal(
        out[out["cutoff"] == 1], calibrate(bt[bt["cutoff"] == 1], interval_scales(b, (80,)), (80,))
    )
    assert list(out.columns) == list(bt.columns) and len(out) == len(bt)


def test_forecast_calibrates_its_intervals_on_a_backtest_of_the_history():
    rng = np.random.default_rng(4)
    ds = pd.date_range("2020-01", periods=40, freq="MS")
    hist = pd.concat(
        [pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": 50 + rng.normal(0, 5, 40)}) for i in range(20)]
    )
    raw = forecast(hist, 4, models=[HistoricAverage()], workers=1)
    calibrated = forecast(hist, 4, workers=1)
    uncalibrated = forecast(hist, 4, workers=1, calibrate=False)
    pd.testing.assert_series_equal(calibrated["yhat"], uncalibrated["yhat"])
    assert list(calibrated.columns) == list(uncalibrated.columns)
    assert not np.allclose(calibrated["yhat_hi_80"], uncalibrated["yhat_hi_80"])
    assert (calibrated["yhat_lo_80"] <= calibrated["yhat"]).all() and (
        calibrated["yhat_hi_80"] >= calibrated["yhat"]
    ).all()
    assert len(raw) == len(calibrated)


def test_forecast_calibrates_on_the_origin_half_a_horizon_before_the_end():
    """The multipliers are the conformal quantiles of the errors of forecasts made ceil(h/2) months
    before the end (recomputed here by hand), the later steps reusing the last measured one."""
    rng = np.random.default_rng(5)
    ds = pd.date_range("2020-01", periods=40, freq="MS")
    hist = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"s{i}", "ds": ds, "y": 80 + 10 * np.sin(np.arange(40)) + rng.normal(0, 6, 40)}
            )
            for i in range(20)
        ],
        ignore_index=True,
    )
    horizon, lag = 5, 3  # ceil(5 / 2): steps 1-3 have actuals
    past = hist[hist["ds"] < ds[40 - lag]]
    bt = forecast(past, horizon, workers=1, calibrate=False).merge(hist, on=["unique_id", "ds"])
    bt["step"] = bt.groupby("unique_id")["ds"].rank().astype(int)
    assert sorted(bt["step"].unique()) == [1, 2, 3]
    s = (bt["yhat_hi_95"] - bt["yhat"]) / normal_quantile(95)
    z = (np.abs(bt["y"] - bt["yhat"]) / s).to_numpy()
    steps = bt["step"].to_numpy()

    def q(step, level):
        near = np.sort(z[np.abs(steps - step) <= 1])
        return near[int(np.ceil((near.size + 1) * level / 100)) - 1]

    out = forecast(hist, horizon, workers=1)
    out["step"] = out.groupby("unique_id")["ds"].rank().astype(int)
    scale = (out["yhat_hi_95"] - out["yhat"]) / np.array([q(min(h, lag), 95) for h in out["step"]])
    raw = forecast(hist, horizon, workers=1, calibrate=False)
    np.testing.assert_allclose(scale, (raw["yhat_hi_95"] - raw["yhat"]) / normal_quantile(95), rtol=1e-9)
    expected_hi80 = out["yhat"] + np.array([q(min(h, lag), 80) for h in out["step"]]) * scale
    np.testing.assert_allclose(out["yhat_hi_80"], expected_hi80, rtol=1e-9)
