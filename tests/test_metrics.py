"""salesops.metrics against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from salesops import metrics

A = [100.0, 200.0, 50.0]
F = [110.0, 180.0, 50.0]


def test_mae_rmse():
    assert metrics.mae(A, F) == pytest.approx((10 + 20 + 0) / 3)
    assert metrics.rmse(A, F) == pytest.approx(math.sqrt((100 + 400 + 0) / 3))


def test_mape_skips_zero_actuals():
    assert metrics.mape(A, F) == pytest.approx((10 / 100 + 20 / 200 + 0) / 3)
    assert metrics.mape([0, 100], [5, 90]) == pytest.approx(0.1)
    assert math.isnan(metrics.mape([0, 0], [1, 2]))


def test_wape():
    assert metrics.wape(A, F) == pytest.approx(30 / 350)
    assert math.isnan(metrics.wape([0, 0], [1, 1]))


def test_smape_m3_definition():
    # 2*10/210, 2*20/380, 0
    expected = (20 / 210 + 40 / 380 + 0) / 3
    assert metrics.smape(A, F) == pytest.approx(expected)
    assert metrics.smape([0, 10], [0, 30]) == pytest.approx((0 + 2 * 20 / 40) / 2)


def test_mase_and_rmsse_use_seasonal_naive_scale():
    train = [10, 20, 30, 14, 22, 36]  # season 3: diffs 4, 2, 6 -> MAE scale 4, MSE scale (16+4+36)/3
    actual, fc = [12, 25], [14, 22]  # errors 2, 3
    assert metrics.mase(actual, fc, train, season_length=3) == pytest.approx(2.5 / 4)
    assert metrics.rmsse(actual, fc, train, season_length=3) == pytest.approx(math.sqrt(6.5 / (56 / 3)))
    # history shorter than a season: one-step naive scale (diffs 10, 10)
    assert metrics.mase([40], [30], [10, 20, 30], season_length=12) == pytest.approx(1.0)


def test_bias_and_relative_bias():
    assert metrics.bias(A, F) == pytest.approx((10 - 20 + 0) / 3)
    assert metrics.relative_bias(A, F) == pytest.approx(-10 / 350)


def test_tracking_signal():
    actual, fc = [10, 12, 8, 15], [9, 10, 9, 11]  # A-F: 1, 2, -1, 4 -> sum 6, MAD 2
    assert metrics.tracking_signal(actual, fc) == pytest.approx(3.0)
    assert metrics.tracking_signal([5, 5], [5, 5]) == 0.0


def test_coverage():
    assert metrics.coverage([1, 5, 9, 3], [0, 0, 0, 3], [4, 6, 8, 3]) == pytest.approx(0.75)


def test_forecast_value_add():
    actual = [100, 100, 100]
    out = metrics.forecast_value_add(
        actual, {"naive": [70, 130, 100], "statistical": [90, 110, 100], "consensus": [95, 100, 100]}
    )
    # WAPE: naive 60/300=20%, statistical 20/300=6.67%, consensus 5/300=1.67%
    assert out["error"].tolist() == pytest.approx([60 / 300, 20 / 300, 5 / 300])
    assert np.isnan(out["value_add"].iloc[0])
    assert out["value_add"].iloc[1:].tolist() == pytest.approx([40 / 300, 15 / 300])
    assert out["vs_baseline"].tolist() == pytest.approx([0, 40 / 300, 55 / 300])


def test_nan_pairs_are_skipped_and_shapes_checked():
    assert metrics.mae([1, np.nan, 3], [2, 5, np.nan]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="aligned"):
        metrics.mae([1, 2], [1])


def test_evaluate_matches_pandas_recomputation():
    frame = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "y": [10.0, 20, 5, 5], "m": [12.0, 18, 5, 10]})
    out = metrics.evaluate(frame, ["m"]).set_index("unique_id")
    assert out.loc["a", "wape"] == pytest.approx(4 / 30)
    assert out.loc["b", "bias"] == pytest.approx(2.5)


def test_msis_m4_definition_by_hand():
    # history 2, 4, 6, 10, 12, 14 with m = 2: seasonal naive errors |6-2|, |10-4|, |12-6|, |14-10|
    # = 4, 6, 6, 4 -> scale 5.0
    train = [2, 4, 6, 10, 12, 14]
    actual = [15, 9, 30]
    lo, hi = [10, 10, 10], [20, 20, 20]
    # 95% (a = 0.05, penalty 2/a = 40): widths 10 each; 9 is 1 below -> 40; 30 is 10 above -> 400
    # mean score (10 + 50 + 410) / 3 = 156.667, scaled by 5 -> 31.333
    assert metrics.msis(actual, lo, hi, train, level=95, season_length=2) == pytest.approx(470 / 3 / 5)
    # 80% (penalty 2/0.2 = 10): (10 + 20 + 110) / 3 / 5
    assert metrics.msis(actual, lo, hi, train, level=80, season_length=2) == pytest.approx(140 / 3 / 5)
    # every actual inside: the mean width over the scale; a flat history has no scale
    assert metrics.msis([12, 14], [10, 10], [20, 20], train, 95, 2) == pytest.approx(10 / 5)
    assert math.isnan(metrics.msis([1], [0], [2], [3, 3, 3, 3], 95, 2))
    with pytest.raises(ValueError):
        metrics.msis([1, 2], [0], [2, 3], train, 95, 2)
