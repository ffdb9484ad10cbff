"""The forecast cache: a hit gives exactly the rows a fresh fit gives; any change to the inputs misses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops.demand import backtest, forecast
from salesops.demand.cache import ForecastCache


def history(n_series=4, months=40):
    rows = []
    rng = np.random.default_rng(3)
    for i in range(n_series):
        ds = pd.date_range("2023-01", periods=months, freq="MS")
        y = 40 + 5 * i + 6 * np.sin(2 * np.pi * np.arange(months) / 12) + rng.normal(0, 2, months)
        if i == 3:  # intermittent: other members
            y = np.where(rng.random(months) < 0.6, 0.0, np.round(np.abs(y)))
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_a_cached_forecast_equals_a_fresh_one_and_changed_history_misses(tmp_path):
    hist = history()
    cache = ForecastCache(tmp_path, 6, 12, (80, 95))
    fresh = forecast(hist, 6, workers=1)
    first = forecast(hist, 6, workers=1, cache=cache)
    pd.testing.assert_frame_equal(first, fresh)
    # one entry file per first month forecast: the forecast's (and the interval calibration's origins)
    assert f"{hist['ds'].max() + pd.DateOffset(months=1):%Y-%m}.parquet" in {
        f.name for f in cache.folder.glob("*.parquet")
    }
    again = forecast(hist, 6, workers=1, cache=cache)
    pd.testing.assert_frame_equal(again, fresh)
    # hits come from the cache, not from a new fit: a tampered entry shows through
    entry = cache.folder / f"{hist['ds'].max() + pd.DateOffset(months=1):%Y-%m}.parquet"
    stored = pd.read_parquet(entry)
    stored.to_parquet(entry.with_name("backup"))
    stored.assign(yhat=stored["yhat"] + 1000).to_parquet(entry)
    assert np.allclose(forecast(hist, 6, workers=1, cache=cache)["yhat"] - fresh["yhat"], 1000)
    stored.to_parquet(entry)
    revised = hist.copy()
    revised.loc[revised["unique_id"].eq("S1") & revised["ds"].eq(revised["ds"].max()), "y"] += 50
    mixed = forecast(revised, 6, workers=1, cache=cache)
    pd.testing.assert_frame_equal(mixed, forecast(revised, 6, workers=1))
    assert not mixed[mixed["unique_id"] == "S1"]["yhat"].equals(fresh[fresh["unique_id"] == "S1"]["yhat"])


def test_backtest_windows_reuse_earlier_forecasts_of_the_same_history(tmp_path):
    hist = history()
    cache = ForecastCache(tmp_path, 6, 12, (80, 95))
    last = hist["ds"].max()
    # the forecasts a cycle made a month and two months ago: history up to then, same horizon
    for back in (1, 2):
        forecast(
            hist[hist["ds"] <= last - pd.DateOffset(months=back)], 6, workers=1, cache=cache, calibrate=False
        )
    files = sorted(p.name for p in cache.folder.glob("*.parquet"))
    assert files == [f"{last - pd.DateOffset(months=1):%Y-%m}.parquet", f"{last:%Y-%m}.parquet"]
    fresh = backtest(hist, 6, windows=3, step=1, partial=True, min_train=24, workers=1)
    cached = backtest(hist, 6, windows=3, step=1, partial=True, min_train=24, workers=1, cache=cache)
    pd.testing.assert_frame_equal(cached, fresh)
    # partial windows: only months with actuals, origins 1, 2 and 3 months back
    assert sorted(fresh.groupby("cutoff")["step"].max().tolist()) == [1, 2, 3]
    assert fresh["y"].notna().all()
    cutoffs = sorted(fresh["cutoff"].unique())
    assert [pd.Timestamp(c) for c in cutoffs] == [last - pd.DateOffset(months=k) for k in (3, 2, 1)]
