"""salesops.demand.forecast / forecast_file / backtest: the contract's columns, input checks, engines."""

import numpy as np
import pandas as pd
import pytest

from salesops.demand import Naive, SeasonalNaive, backtest, forecast, forecast_file, prepare
from salesops.exceptions import DataError


def history(n_series=3, months=36, start="2023-01"):
    rows = []
    for i in range(n_series):
        ds = pd.date_range(start, periods=months, freq="MS")
        y = 50 + 10 * i + 8 * np.sin(2 * np.pi * np.arange(months) / 12) + np.arange(months) * 0.5
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": ds.strftime("%Y-%m"), "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_output_follows_the_contract():
    fc = forecast(history(), horizon=4, level=(80, 95), workers=1)
    assert fc.columns[:8].tolist() == [
        "unique_id",
        "ds",
        "yhat",
        "model",
        "yhat_lo_80",
        "yhat_hi_80",
        "yhat_lo_95",
        "yhat_hi_95",
    ]
    assert {"ETS", "Theta", "ARIMA"} <= set(fc.columns)
    assert len(fc) == 3 * 4
    assert fc["ds"].iloc[:4].tolist() == list(pd.date_range("2026-01", periods=4, freq="MS"))
    assert (fc["yhat_lo_95"] <= fc["yhat_lo_80"]).all() and (fc["yhat_hi_80"] <= fc["yhat_hi_95"]).all()
    assert fc["unique_id"].unique().tolist() == ["S0", "S1", "S2"]


def test_explicit_models_get_alias_columns_and_first_is_yhat():
    fc = forecast(history(1), horizon=13, models=[SeasonalNaive(), Naive()], level=(), workers=1)
    y = history(1)["y"].to_numpy()
    assert fc["SeasonalNaive"].tolist() == pytest.approx(list(y[-12:]) + [y[-12]])
    assert fc["yhat"].tolist() == fc["SeasonalNaive"].tolist()
    assert fc["Naive"].tolist() == pytest.approx([y[-1]] * 13)


def test_duplicate_aliases_are_refused():
    with pytest.raises(DataError, match="alias"):
        forecast(history(1), horizon=2, models=[Naive(), Naive()])


def test_gaps_are_filled_with_zero_and_dates_may_be_days_on_the_first():
    df = pd.DataFrame(
        {"unique_id": ["a", "a", "a"], "ds": ["2026-01-01", "2026-02-01", "2026-05-01"], "y": [1, 2, 3]}
    )
    out = prepare(df)
    assert out["ds"].dt.strftime("%Y-%m").tolist() == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    assert out["y"].tolist() == [1, 2, 0, 0, 3]


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"unique_id": ["a"], "y": [1]}), "lacks column.*ds"),
        (
            pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2026-01", "Jan 2026x"], "y": [1, 2]}),
            r"'ds' row 1.*not a month",
        ),
        (pd.DataFrame({"unique_id": ["a"], "ds": ["2026-01-15"], "y": [1]}), "row 0.*first day"),
        (
            pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2026-01", "2026-02"], "y": [1, "many"]}),
            r"'y' row 1.*'many'",
        ),
        (
            pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2026-01", "2026-01"], "y": [1, 2]}),
            "row 1.*2026-01 twice",
        ),
        (pd.DataFrame({"unique_id": [], "ds": [], "y": []}), "no rows"),
    ],
)
def test_bad_input_raises_data_error_naming_the_problem(frame, match):
    with pytest.raises(DataError, match=match):
        forecast(frame, horizon=3)


def test_bad_arguments():
    with pytest.raises(DataError, match="horizon"):
        forecast(history(1), horizon=0)
    with pytest.raises(DataError, match="level 120"):
        forecast(history(1), horizon=2, level=(120,))
    with pytest.raises(DataError, match="engine"):
        forecast(history(1), horizon=2, engine="spark")


def test_awkward_series_in_one_frame_never_abort_the_run():
    df = pd.concat(
        [
            history(1),
            pd.DataFrame({"unique_id": "short", "ds": ["2025-11", "2025-12"], "y": [4.0, 6.0]}),
            pd.DataFrame(
                {"unique_id": "flat", "ds": pd.date_range("2024-01", periods=24, freq="MS"), "y": 7.0}
            ),
            pd.DataFrame(
                {
                    "unique_id": "neg",
                    "ds": pd.date_range("2024-01", periods=24, freq="MS"),
                    "y": -np.arange(24.0),
                }
            ),
            pd.DataFrame(
                {
                    "unique_id": "lumpy",
                    "ds": pd.date_range("2023-01", periods=36, freq="MS"),
                    "y": np.tile([0, 0, 0, 5.0], 9),
                }
            ),
        ],
        ignore_index=True,
    )
    fc = forecast(df, horizon=6, workers=1)
    assert len(fc) == 5 * 6 and np.isfinite(fc["yhat"]).all()
    models = fc.groupby("unique_id")["model"].first()
    assert "fallback" in models["short"] and "fallback" in models["flat"]
    assert models["lumpy"] == "Combo(SBA,TSB)"
    assert fc.loc[fc["unique_id"] == "flat", "yhat"].eq(7.0).all()


def test_process_pool_gives_the_same_result_as_one_process():
    df = history(6, 30)
    one = forecast(df, horizon=3, workers=1)
    two = forecast(df, horizon=3, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_backtest_windows_and_actuals():
    df = history(2, 30)
    cv = backtest(df, horizon=3, windows=2, step=2, models=[Naive()], level=(80,))
    cutoffs = sorted(cv["cutoff"].unique())
    # last origin 3 months before the end (2025-03), the one before 2 months earlier
    assert [c.strftime("%Y-%m") for c in cutoffs] == ["2025-01", "2025-03"]
    assert cv.groupby(["unique_id", "cutoff"]).size().eq(3).all()
    assert cv["step"].tolist()[:3] == [1, 2, 3]
    truth = prepare(df).set_index(["unique_id", "ds"])["y"]
    assert cv["y"].tolist() == truth.loc[list(zip(cv["unique_id"], cv["ds"]))].tolist()
    naive = prepare(df).set_index(["unique_id", "ds"])["y"].loc[list(zip(cv["unique_id"], cv["cutoff"]))]
    assert cv["yhat"].tolist() == pytest.approx(naive.tolist())


def test_forecast_file_round_trip_and_cli_exit_codes(tmp_path, capsys):
    from salesops.cli import main

    src = tmp_path / "history.csv"
    history(2, 30).to_csv(src, index=False)
    out = tmp_path / "fc.parquet"
    fc = forecast_file(src, horizon=5, output=out, workers=1)
    back = pd.read_parquet(out)
    assert len(back) == 10 and back["yhat"].tolist() == pytest.approx(fc["yhat"].tolist())
    forecast_file(src, horizon=2, workers=1)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("unique_id,ds,yhat,model,yhat_lo_80,yhat_hi_80,yhat_lo_95,yhat_hi_95")
    assert len(printed) == 1 + 4
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"unique_id": ["a"], "month": ["2026-01"], "y": [1]}).to_csv(bad, index=False)
    assert main(["forecast", str(bad), "--horizon", "3"]) == 2
    assert (
        main(["forecast", str(src), "--horizon", "2", "--output", str(tmp_path / "o.csv"), "--workers", "1"])
        == 0
    )
    assert len(pd.read_csv(tmp_path / "o.csv")) == 4


@pytest.mark.slow
def test_dask_engine_matches_local():
    df = history(4, 30)
    local = forecast(df, horizon=3, workers=1)
    distributed = forecast(df, horizon=3, engine="dask", workers=1)
    pd.testing.assert_frame_equal(local, distributed)
