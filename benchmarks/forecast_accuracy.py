"""Accuracy benchmark: every salesops model, the default, and statsforecast on public monthly data.

    .venv/bin/python benchmarks/forecast_accuracy.py [--datasets pbs-monthly,aus-retail,demo] [--workers 2]
                                                     [--limit N] [--no-statsforecast] [--variants]
                                                     [--sf-models AutoETS] [--raw-intervals] [--yardsticks]

pbs-monthly (336 series, last 18 months held out), aus-retail (152 series, last 24 held out) and
`demo` (the demo company's 150 SKUs, last 12 held out): sMAPE (mean of 200|F-A|/(|F|+|A|) over every
series and step, as in M3) and MASE (mean over series, seasonal-naive in-sample scale, m = 12); for
the models with intervals (the default and statsforecast's) the coverage of the 80% and 95% intervals
(share of actuals inside, in %) and MSIS at both levels (mean over series of the M4 mean scaled
interval score, `salesops.metrics.msis`). `--raw-intervals` also scores the default's intervals
before calibration. statsforecast's AutoETS / AutoTheta / AutoARIMA run from
the separate venv `.venv-bench` (statsforecast pins pandas<3); create it with
`benchmarks/setup_statsforecast_env.sh`; with all four of AutoETS, AutoTheta, AutoCES and AutoARIMA
in `--sf-models` their mean is scored too. `--yardsticks` adds the published M3 yardsticks as M3
ran them (`M3Yardstick`: Naive2, SES, Holt, damped trend ES, Comb S-H-D, and Theta via statsmodels'
`ThetaModel`). Printed figures, not a timed test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data

from salesops import metrics
from salesops.demand import ARIMA, ETS, SBA, TSB, AutoCombo, Croston, Naive, SeasonalNaive, Theta, forecast
from salesops.demand.models import Model

ROOT = Path(__file__).resolve().parents[1]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
SINGLE = [SeasonalNaive, Naive, ETS, Theta, ARIMA, Croston, SBA, TSB]


LEVELS = (80, 95)
SF_ALIASES = {"AutoCES": "CES"}  # statsforecast models whose forecast column is not their class name


def _m3_seasonal(y: np.ndarray, m: int) -> bool:
    """The M3/M4 benchmarks' seasonality test: |ACF at lag m| beyond 1.645 standard errors (90%)."""
    n = y.size
    if m < 2 or n < 3 * m or np.ptp(y) == 0:
        return False
    x = y - y.mean()
    acf = np.array([np.dot(x[k:], x[:-k]) for k in range(1, m + 1)]) / np.dot(x, x)
    return bool(abs(acf[m - 1]) > 1.645 * np.sqrt((1 + 2 * np.sum(acf[: m - 1] ** 2)) / n))


YARDSTICKS = {  # method -> column label
    "naive2": "M3 Naive2",
    "ses": "M3 SES",
    "holt": "M3 Holt",
    "damped": "M3 damped trend ES",
    "comb": "M3 Comb S-H-D",
    "theta": "M3 Theta (statsmodels ThetaModel)",
}


class M3Yardstick(Model):
    """A published M3 yardstick as M3 and M4 ran it (Makridakis & Hibon 2000; the M4 benchmark code):
    classical multiplicative decomposition of the whole history when the 90% seasonality test says
    seasonal (additive for series with zeros or negatives), then on the seasonally adjusted data
    `naive2` (the last value), `ses`, `holt`, `damped` (statsmodels `ExponentialSmoothing`, parameters
    and initial states by least squares) or `comb` (the mean of SES, Holt and damped: Comb S-H-D),
    reseasonalised. `theta` is statsmodels' `ThetaModel` with its own defaults (M3's Theta: the same
    test and decomposition, SES with drift of half the trend slope). Point forecasts only."""

    def __init__(self, method: str, season_length: int = 12):
        super().__init__(season_length, YARDSTICKS[method])
        self.method = method

    def _unfit_reason(self, y):
        return f"{y.size} points" if y.size < 4 else super()._unfit_reason(y)

    def _fit(self, y):
        from statsmodels.tsa.forecasting.theta import ThetaModel
        from statsmodels.tsa.holtwinters import ExponentialSmoothing
        from statsmodels.tsa.seasonal import seasonal_decompose

        m = self.season_length
        self.model_ = self.alias
        if self.method == "theta":
            self.res_ = ThetaModel(y, period=m).fit()
            return
        self.season_ = None
        if _m3_seasonal(y, m):
            mult = bool(np.all(y > 0))
            dec = seasonal_decompose(y, model="multiplicative" if mult else "additive", period=m)
            self.season_, self.mult_ = np.asarray(dec.seasonal, dtype=float), mult
            y = y / self.season_ if mult else y - self.season_
        self.x_ = y
        specs = {"ses": [{}], "holt": [{"trend": "add"}], "damped": [{"trend": "add", "damped_trend": True}]}
        specs["comb"] = specs["ses"] + specs["holt"] + specs["damped"]
        self.fits_ = [
            ExponentialSmoothing(y, initialization_method="estimated", **kw).fit()
            for kw in specs.get(self.method, [])
        ]

    def _predict(self, h):
        if self.method == "theta":
            return np.asarray(self.res_.forecast(h), dtype=float), np.zeros(h)
        if self.method == "naive2":
            mean = np.full(h, self.x_[-1])
        else:
            mean = np.mean([np.asarray(f.forecast(h), dtype=float) for f in self.fits_], axis=0)
        if self.season_ is not None:  # the seasonal index of the same month, continued periodically
            m = self.season_length
            s = self.season_[-m:][np.arange(h) % m]
            mean = mean * s if self.mult_ else mean + s
        return mean, np.zeros(h)


def score(
    test: pd.DataFrame,
    train: pd.DataFrame,
    fc: pd.DataFrame,
    columns: list[str],
    season: int = 12,
    bounds: dict[str, str] | None = None,
):
    """sMAPE, MASE and, for `bounds` (model column -> prefix of its `{prefix}lo_L`/`{prefix}hi_L`
    columns), the coverage (%) and MSIS of the 80% and 95% intervals."""
    bounds = bounds or {}
    merged = test.merge(fc, on=["unique_id", "ds"], how="left")
    histories = {uid: g["y"].to_numpy() for uid, g in train.groupby("unique_id", sort=False)}
    rows = []
    for col in columns:
        per_series = [
            metrics.mase(g["y"], g[col], histories[uid], season)
            for uid, g in merged.groupby("unique_id", sort=False)
        ]
        row = {
            "model": col,
            "smape": metrics.smape(merged["y"], merged[col]) * 100,
            "mase": float(np.nanmean(per_series)),
        }
        for lv in LEVELS:
            lo, hi = (f"{bounds.get(col)}{side}_{lv}" for side in ("lo", "hi"))
            if col in bounds and lo in merged:
                row[f"cov_{lv}"] = metrics.coverage(merged["y"], merged[lo], merged[hi]) * 100
                row[f"msis_{lv}"] = float(
                    np.nanmean(
                        [
                            metrics.msis(g["y"], g[lo], g[hi], histories[uid], lv, season)
                            for uid, g in merged.groupby("unique_id", sort=False)
                        ]
                    )
                )
            else:
                row[f"cov_{lv}"] = row[f"msis_{lv}"] = np.nan
        row["missing"] = int(merged[col].isna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


def run_statsforecast(
    train: pd.DataFrame, horizon: int, names: str, n_jobs: int
) -> tuple[pd.DataFrame, float]:
    with tempfile.TemporaryDirectory() as tmp:
        train_path, out_path = Path(tmp) / "train.parquet", Path(tmp) / "fc.parquet"
        train.to_parquet(train_path, index=False)
        done = subprocess.run(
            [
                str(BENCH_PYTHON),
                str(ROOT / "benchmarks" / "_statsforecast_run.py"),
                str(train_path),
                str(out_path),
                str(horizon),
                "12",
                names,
                str(n_jobs),
                ",".join(map(str, LEVELS)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        fc = pd.read_parquet(out_path)
    fc["ds"] = pd.to_datetime(fc["ds"])
    renames = {}
    for n in names.split(","):
        col = SF_ALIASES.get(n, n)  # the output column statsforecast names the model by
        renames[col] = f"sf_{n}"
        for lv in LEVELS:  # statsforecast's `MODEL-lo-L` -> `sf_MODEL_lo_L`
            renames[f"{col}-lo-{lv}"], renames[f"{col}-hi-{lv}"] = f"sf_{n}_lo_{lv}", f"sf_{n}_hi_{lv}"
    fc = fc.rename(columns=renames)
    return fc, float(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default=",".join([*_data.DATASETS, *_data.EXTRA]))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--limit", type=int, default=None, help="first N series only (quick runs)")
    ap.add_argument("--no-statsforecast", action="store_true")
    ap.add_argument(
        "--sf-models",
        default="AutoETS,AutoTheta,AutoARIMA",
        help="statsforecast models to run (AutoARIMA is slow on long series)",
    )
    ap.add_argument("--variants", action="store_true", help="also score median and two-member combinations")
    ap.add_argument(
        "--yardsticks",
        action="store_true",
        help="also score M3's published yardsticks: Naive2, SES, Holt, damped, Comb S-H-D, Theta",
    )
    ap.add_argument(
        "--raw-intervals", action="store_true", help="also score the default's intervals before calibration"
    )
    args = ap.parse_args(argv)
    pd.set_option("display.width", 140)
    for name in args.datasets.split(","):
        holdout = {**_data.DATASETS, **_data.EXTRA}[name]
        df = _data.load(name)
        if args.limit:
            df = df[df["unique_id"].isin(df["unique_id"].unique()[: args.limit])]
        train, test = _data.split(df, holdout)
        # demo: the SKUs with two seasons of history before the holdout (statsforecast refuses tiny
        # series such as a SKU launched four months before it); the public sets are kept whole
        minimum = 24 if name in _data.EXTRA else 1
        lengths = train.groupby("unique_id").size()
        long_enough = lengths.index[lengths >= minimum]
        train = train[train["unique_id"].isin(long_enough)].reset_index(drop=True)
        test = test[test["unique_id"].isin(long_enough)].reset_index(drop=True)
        n = train["unique_id"].nunique()
        print(f"\n== {name}: {n} series, h = {holdout}")
        start = time.perf_counter()
        default = forecast(train, holdout, workers=args.workers)
        t_default = time.perf_counter() - start
        # single models: the cheap ones on every series; ETS/Theta/ARIMA are the default's members
        # (fitted standalone), so they are refitted only where the default did not fit them
        start = time.perf_counter()
        cheap = [SeasonalNaive, Naive, Croston, SBA, TSB]
        singles = forecast(train, holdout, models=[m() for m in cheap], workers=args.workers, level=())
        members = default[["unique_id", "ds", "ETS", "Theta", "ARIMA"]]
        todo = members.groupby("unique_id")[["ETS", "Theta", "ARIMA"]].apply(lambda g: g.isna().any().any())
        todo = todo[todo].index
        if len(todo):
            refit = forecast(
                train[train["unique_id"].isin(todo)],
                holdout,
                models=[ETS(), Theta(), ARIMA()],
                workers=args.workers,
                level=(),
            )[["unique_id", "ds", "ETS", "Theta", "ARIMA"]]
            members = pd.concat([members[~members["unique_id"].isin(todo)], refit], ignore_index=True)
        t_singles = time.perf_counter() - start
        interval_cols = [f"yhat_{s}_{lv}" for lv in LEVELS for s in ("lo", "hi")]
        fc = (
            default[["unique_id", "ds", "yhat", *interval_cols]]
            .rename(columns={"yhat": "AutoCombo (default)"})
            .merge(singles.drop(columns=["yhat", "model"]), on=["unique_id", "ds"])
            .merge(members, on=["unique_id", "ds"])
        )
        columns = ["AutoCombo (default)"] + [m.alias for m in SINGLE]
        bounds = {"AutoCombo (default)": "yhat_"}
        if args.raw_intervals:
            raw = forecast(train, holdout, workers=args.workers, calibrate=False)
            raw = raw[["unique_id", "ds", "yhat", *interval_cols]].rename(
                columns={c: f"raw_{c}" for c in ["yhat", *interval_cols]}
            )
            fc = fc.merge(raw.rename(columns={"raw_yhat": "AutoCombo (uncalibrated intervals)"}))
            columns.insert(1, "AutoCombo (uncalibrated intervals)")
            bounds["AutoCombo (uncalibrated intervals)"] = "raw_yhat_"
        if args.variants:
            for label, model in [
                ("median of the default's members", AutoCombo(combine="median")),
                ("mean(ETS,Theta)", AutoCombo(members=(ETS(), Theta()))),
                ("mean(ETS,ARIMA)", AutoCombo(members=(ETS(), ARIMA()))),
                ("mean(Theta,ARIMA)", AutoCombo(members=(Theta(), ARIMA()))),
            ]:
                model.alias = label
                extra = forecast(train, holdout, models=[model], workers=args.workers, level=())
                fc = fc.merge(extra[["unique_id", "ds", label]], on=["unique_id", "ds"])
                columns.append(label)
        if args.yardsticks:
            sticks = [M3Yardstick(method) for method in YARDSTICKS]
            extra = forecast(train, holdout, models=sticks, workers=args.workers, level=())
            labels = [m.alias for m in sticks]
            fc = fc.merge(extra[["unique_id", "ds", *labels]], on=["unique_id", "ds"])
            columns += labels
        t_sf = {}
        if not args.no_statsforecast:
            if BENCH_PYTHON.exists():
                names = args.sf_models.split(",")
                sf, t_sf["+".join(names)] = run_statsforecast(
                    train, holdout, args.sf_models, args.workers or 2
                )
                columns += [f"sf_{n}" for n in names]
                bounds.update({f"sf_{n}": f"sf_{n}_" for n in names})
                if {"AutoETS", "AutoTheta"} <= set(names):
                    sf["sf_mean(AutoETS,AutoTheta)"] = sf[["sf_AutoETS", "sf_AutoTheta"]].mean(axis=1)
                    columns.append("sf_mean(AutoETS,AutoTheta)")
                four = ["AutoETS", "AutoTheta", "AutoCES", "AutoARIMA"]
                if set(four) <= set(names):
                    sf["sf_mean(4)"] = sf[[f"sf_{n}" for n in four]].mean(axis=1)
                    columns.append("sf_mean(4)")
                fc = fc.merge(sf, on=["unique_id", "ds"], how="left")
            else:
                print(
                    f"(statsforecast skipped: {BENCH_PYTHON} missing; run benchmarks/setup_statsforecast_env.sh)"
                )
        table = score(test, train, fc, columns, bounds=bounds)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""))
        print(
            f"default: {t_default:.1f} s wall ({n / t_default:.1f} series/s); other single models: {t_singles:.1f} s;"
            + "".join(f" statsforecast {k}: {v:.1f} s;" for k, v in t_sf.items())
        )
        print(
            "default's model mix:",
            default.groupby("unique_id")["model"]
            .first()
            .str.replace(r" \(fallback.*", " (fallback)", regex=True)
            .str.replace(r" \(recent regime: \d+ months\)", " (recent regime)", regex=True)
            .value_counts()
            .to_dict(),
        )
        ours = table[table["model"].isin([m.alias for m in SINGLE])]
        best = ours.loc[ours["smape"].idxmin()]
        d = table.iloc[0]
        print(
            f"default beats every single model on sMAPE: {bool(d.smape < ours.smape.min())} "
            f"(best single {best.model} {best.smape:.3f}); on MASE: {bool(d.mase < ours.mase.min())}"
        )


if __name__ == "__main__":
    main()
