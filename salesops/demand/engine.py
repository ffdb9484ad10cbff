"""Running models over many series: input checks, a local process pool, or dask.distributed.

`forecast` is the public entry point (also `salesops.forecast`); `backtest` runs rolling-origin
cross-validation with the same machinery.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..safety import neutralise_frame
from .auto import AutoCombo
from .cache import ForecastCache
from .intervals import calibrate as calibrate_intervals
from .intervals import interval_scales
from .models import Model

__all__ = ["BLAS_ENV", "backtest", "forecast", "forecast_file", "prepare"]

BLAS_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
REQUIRED = ("unique_id", "ds", "y")
DASK_CONNECT_TIMEOUT_S = 30  # an unreachable scheduler fails with a DataError after this


# ---------------------------------------------------------------- input
def _months(values: pd.Series, column: str = "ds") -> pd.Series:
    """Parse months written `YYYY-MM` or as dates on the 1st; DataError names the first bad row."""
    from ..data.validate import _TIME_ZONE

    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
        if parsed.dt.tz is not None:  # the calendar date in its own zone, as for input tables
            parsed = parsed.dt.tz_localize(None)
    else:
        text = values.astype("string").str.strip().str.replace(_TIME_ZONE, r"\1", regex=True)
        parsed = pd.to_datetime(text, format="%Y-%m", errors="coerce")
        other = parsed.isna() & text.notna()
        if other.any():
            parsed = parsed.where(~other, pd.to_datetime(text.where(other), errors="coerce", format="mixed"))
        if not pd.api.types.is_datetime64_any_dtype(parsed):
            parsed = pd.to_datetime(parsed, errors="coerce", utc=True).dt.tz_localize(None)
    bad = parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"column '{column}' row {row}: {values.iloc[row]!r} is not a month; "
            "write months as YYYY-MM (e.g. 2026-11) or as a date on the 1st (2026-11-01)"
        )
    off = parsed.dt.day != 1
    if off.any():
        row = int(np.flatnonzero(off.to_numpy())[0])
        raise DataError(
            f"column '{column}' row {row}: {values.iloc[row]!r} is not the first day of a month; "
            "aggregate to monthly totals and date them on the 1st (or write YYYY-MM)"
        )
    return parsed.dt.as_unit("ns") if hasattr(parsed.dt, "as_unit") else parsed


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise a long frame `unique_id, ds, y`: months as Timestamps, y as float,
    missing months inside a series filled with 0 (no recorded demand), sorted.

    Args:
        df: The long frame `unique_id, ds, y` (other columns are dropped).

    Returns:
        The frame `unique_id, ds, y`, sorted by series and month, without gaps.

    Raises:
        DataError: The frame breaks a rule; the message names the column, row and value, and how to
            fix it.

    Example:
        >>> prepare(pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2026-01", "2026-03"], "y": [1, 2]}))["y"].tolist()
        [1.0, 0.0, 2.0]
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"forecast input must be a pandas DataFrame with columns unique_id, ds, y, "
            f"not {type(df).__name__}"
        )
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(
            f"forecast input lacks column(s) {', '.join(missing)} (has: {', '.join(map(str, df.columns))}); "
            "provide a long frame with unique_id, ds, y (rename your columns)"
        )
    if df.empty:
        raise DataError("forecast input has no rows; provide at least one series with history")
    frame = df.loc[:, list(REQUIRED)].reset_index(drop=True)
    if frame["unique_id"].isna().any():
        row = int(np.flatnonzero(frame["unique_id"].isna().to_numpy())[0])
        raise DataError(f"column 'unique_id' row {row} is empty; give every row a series id")
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["ds"] = _months(frame["ds"])
    y = pd.to_numeric(frame["y"], errors="coerce")
    bad = (y.isna() & frame["y"].notna()) | np.isinf(y.fillna(0))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"column 'y' row {row}: {frame['y'].iloc[row]!r} is not a number; "
            "y must hold numeric quantities (leave a month out or write 0 for no demand)"
        )
    frame["y"] = y.astype(float)
    dup = frame.duplicated(["unique_id", "ds"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(
            f"row {row}: series {frame['unique_id'].iloc[row]!r} has month "
            f"{frame['ds'].iloc[row]:%Y-%m} twice; aggregate to one row per series and month"
        )
    frame = frame.sort_values(["unique_id", "ds"], kind="stable")
    filled = []
    for uid, g in frame.groupby("unique_id", sort=False):
        idx = pd.date_range(g["ds"].iloc[0], g["ds"].iloc[-1], freq="MS")
        if len(idx) != len(g) or g["y"].isna().any():
            g = g.set_index("ds").reindex(idx).rename_axis("ds").reset_index()
            g["unique_id"] = uid
            g["y"] = g["y"].fillna(0.0)
        filled.append(g[list(REQUIRED)])
    out = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0].reset_index(drop=True)
    return out


def _check_args(horizon, season_length, level):
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise DataError(f"horizon must be a whole number of months >= 1, not {horizon!r}")
    if not isinstance(season_length, (int, np.integer)) or season_length < 1:
        raise DataError(
            f"season_length must be a whole number >= 1 (12 for monthly data), not {season_length!r}"
        )
    levels = tuple(sorted({int(lv) for lv in (level or ())}))
    for lv in levels:
        if not 0 < lv < 100:
            raise DataError(f"level {lv} is not a percentage between 0 and 100; use e.g. 80 or 95")
    return levels


# ---------------------------------------------------------------- work units
def _default_models(season_length: int) -> list[Model]:
    return [AutoCombo(season_length)]


def _forecast_chunk(
    chunk: list, horizon: int, season_length: int, levels: tuple, models: list | None
) -> pd.DataFrame:
    """Forecast a list of `(key, y, first_ds)` series; key is a tuple of id columns."""
    explicit = models is not None
    models = models or _default_models(season_length)
    with _single_threaded_blas():
        frames = _forecast_series(chunk, horizon, levels, models, explicit)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _single_threaded_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment variables set for the workers still apply
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def _forecast_series(chunk, horizon, levels, models, explicit) -> list[pd.DataFrame]:
    frames = []
    for key, y, first in chunk:
        ds = pd.date_range(first, periods=horizon, freq="MS")
        row: dict = {"ds": ds}
        for i, template in enumerate(models):
            model = template.new()
            model.fit(y)
            pred = model.predict(horizon, levels)
            if i == 0:
                row["yhat"] = pred["mean"]
                row["model"] = model.model_
                for lv in levels:
                    row[f"yhat_lo_{lv}"] = pred[f"lo-{lv}"]
                    row[f"yhat_hi_{lv}"] = pred[f"hi-{lv}"]
                if isinstance(model, AutoCombo):
                    for alias, member in model.member_forecasts(horizon).items():
                        row[alias] = member["mean"]
            if explicit:
                row[model.alias] = pred["mean"]
        frame = pd.DataFrame(row)
        for name, value in reversed(list(key)):
            frame.insert(0, name, value)
        frames.append(frame)
    return frames


def _chunks(items: list, n_chunks: int) -> list[list]:
    n_chunks = max(1, min(n_chunks, len(items)))
    return [items[i::n_chunks] for i in range(n_chunks)]


@contextlib.contextmanager
def _blas_single_thread():
    saved = {k: os.environ.get(k) for k in BLAS_ENV}
    os.environ.update(BLAS_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run(
    series: list,
    horizon: int,
    season_length: int,
    levels: tuple,
    models,
    engine: str,
    workers: int | None,
    scheduler: str | None,
    progress: Callable | None,
) -> pd.DataFrame:
    if engine not in ("local", "dask"):
        raise DataError(f"engine must be 'local' or 'dask', not {engine!r}")
    n_workers = workers or os.cpu_count() or 1
    args = (horizon, season_length, levels, models)
    # small chunks balance load and report progress; each holds many series to amortise overhead
    n_chunks = max(1, min(len(series), n_workers * 8, max(1, len(series) // 4)))
    chunks = _chunks(series, n_chunks)
    results = []
    if engine == "dask":
        results = _run_dask(chunks, args, n_workers, scheduler, progress)
    elif n_workers == 1 or len(series) < 2 * n_workers:
        for i, chunk in enumerate(chunks):
            results.append(_forecast_chunk(chunk, *args))
            if progress:
                progress(i + 1, len(chunks))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with _blas_single_thread():
            # fork: no re-import of the caller's script (works from scripts without a __main__ guard)
            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
                futures = [pool.submit(_forecast_chunk, chunk, *args) for chunk in chunks]
                for i, fut in enumerate(as_completed(futures)):
                    results.append(fut.result())
                    if progress:
                        progress(i + 1, len(chunks))
    results = [r for r in results if not r.empty]
    return pd.concat(results, ignore_index=True) if results else pd.DataFrame()


def _run_cached(series: list, cache, *args) -> pd.DataFrame:
    """`_run` for the series `cache` does not hold; the rest come from the cache, with their ids."""
    if cache is None:
        return _run(series, *args)
    keys = [cache.key(y, first) for _, y, first in series]
    stored = cache.get_rows(dict(zip(keys, (first for _, _, first in series))))
    found = set(stored["_key"])
    missing = [(s, k) for s, k in zip(series, keys) if k not in found]
    fresh = _run([s for s, _ in missing], *args) if missing else pd.DataFrame()
    parts, new = [], {}
    if not fresh.empty:
        id_columns = [name for name, _ in missing[0][0][0]]
        by_id = {tuple(value for _, value in s[0]): key for s, key in missing}
        for ids, rows in fresh.groupby(id_columns, sort=False):
            rows = rows.drop(columns=id_columns).dropna(axis=1, how="all").reset_index(drop=True)
            new[by_id[ids if isinstance(ids, tuple) else (ids,)]] = rows
        cache.put(new)
        parts.append(fresh)
    hits = [(key_columns, key) for (key_columns, _, _), key in zip(series, keys) if key in found]
    if hits:
        parts.append(_with_ids(stored, hits))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _with_ids(stored: pd.DataFrame, hits: list) -> pd.DataFrame:
    """Cached rows for each hit `(id columns, key)`, in the hits' order, each with its id columns
    first and then the columns its series had (in the order the first series that had each one)."""
    id_names = [name for name, _ in hits[0][0]]
    ids = pd.DataFrame([[value for _, value in key_columns] for key_columns, _ in hits], columns=id_names)
    ids["_key"] = [key for _, key in hits]
    columns: dict[str, None] = {}
    for spec in stored.drop_duplicates("_key").set_index("_key").loc[ids["_key"].unique(), "_columns"]:
        columns.update(dict.fromkeys(spec.split("\t")))
    rows = ids.merge(stored[["_key", *columns]], on="_key", how="inner", sort=False)
    return rows.drop(columns="_key")


def _run_dask(chunks, args, n_workers, scheduler, progress):
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise DataError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({type(exc).__name__}: {exc}); "
                "start one with `dask scheduler` and give its address, e.g. tcp://10.0.0.5:8786"
            ) from exc
    else:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env=dict(BLAS_ENV),
        )
        client = Client(cluster)
    try:
        futures = client.map(_forecast_chunk, chunks, *[[a] * len(chunks) for a in args], pure=False)
        results = []
        for i, fut in enumerate(as_completed(futures)):
            results.append(fut.result())
            if progress:
                progress(i + 1, len(chunks))
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


MEMBER_ORDER = ("ETS", "Theta", "ARIMA", "DampedETS", "SeasonalNaive", "STLETS", "Naive", "SBA", "TSB")


def _output_columns(frame: pd.DataFrame, ids: list[str], levels: tuple) -> pd.DataFrame:
    """Id, forecast and interval columns first, then member columns in a fixed order (not the order in
    which worker processes happened to finish)."""
    fixed = ids + ["ds", "yhat", "model"] + [f"yhat_{s}_{lv}" for lv in levels for s in ("lo", "hi")]
    rest = [c for c in frame.columns if c not in fixed]
    rest.sort(key=lambda c: (MEMBER_ORDER.index(c) if c in MEMBER_ORDER else len(MEMBER_ORDER), c))
    return frame[fixed + rest]


# ---------------------------------------------------------------- interval calibration
CALIBRATION_WINDOWS = 1  # backtest origins per series for the interval calibration (more did not help)
CALIBRATION_SERIES = 200  # at most this many series (evenly spread over the input) are backtested


def _calibration_lag(horizon: int) -> int:
    """Months between the calibration backtest's (last) origin and the end of the history.

    The most recent origin that still has actuals for half the horizon: errors drift over time
    (aus-retail's errors shrank origin after origin), so the most recent ones are the most like
    the future's; the steps past the last one with actuals reuse its multiplier.

    Args:
        horizon: The forecast horizon in months.

    Returns:
        `ceil(horizon / 2)`.
    """
    return -(-int(horizon) // 2)


def _calibration_series(data: pd.DataFrame, horizon: int, season_length: int) -> list:
    """Backtest work units `(key, y, first)` for the interval calibration: `CALIBRATION_WINDOWS` origins
    `horizon // 2` months apart, the last `_calibration_lag(horizon)` months before the end (scored on
    the steps that have actuals), on up to `CALIBRATION_SERIES` series with at least two seasons of
    history before the first origin."""
    groups = list(data.groupby("unique_id", sort=False))
    if len(groups) > CALIBRATION_SERIES:
        picks = np.linspace(0, len(groups) - 1, CALIBRATION_SERIES).round().astype(int)
        groups = [groups[i] for i in np.unique(picks)]
    step = max(1, horizon // 2)
    lag = _calibration_lag(horizon)
    min_train = max(2 * season_length, 12)
    units = []
    for uid, g in groups:
        y, ds = g["y"].to_numpy(), g["ds"].to_numpy()
        for w in range(1, CALIBRATION_WINDOWS + 1):
            end = len(y) - lag - step * (CALIBRATION_WINDOWS - w)
            if end >= min_train:
                first = pd.Timestamp(ds[end - 1]) + pd.DateOffset(months=1)
                units.append(((("unique_id", uid), ("_origin", w)), y[:end], first))
    return units


def _calibrated(out: pd.DataFrame, data: pd.DataFrame, levels: tuple) -> pd.DataFrame:
    """The forecasts (`_origin` 0) with intervals calibrated on the backtest rows (`_origin` > 0)."""
    fc = out[out["_origin"] == 0].drop(columns="_origin").reset_index(drop=True)
    bt = out[out["_origin"] > 0].merge(data, on=["unique_id", "ds"], how="inner")
    if bt.empty:
        return fc
    bt["step"] = bt.groupby(["unique_id", "_origin"], sort=False)["ds"].rank(method="dense").astype(int)
    nonnegative = data.groupby("unique_id", sort=False)["y"].min() >= 0
    return calibrate_intervals(fc, interval_scales(bt, levels), levels, nonnegative)


# ---------------------------------------------------------------- public
def forecast(
    df: pd.DataFrame,
    horizon: int,
    season_length: int = 12,
    level: Sequence[int] = (80, 95),
    models: list[Model] | None = None,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache: ForecastCache | None = None,
    calibrate: bool = True,
) -> pd.DataFrame:
    """Forecast every series of a long frame `unique_id, ds, y` for `horizon` months.

    Args:
        df: The history, a long frame `unique_id, ds, y` (checked and normalised by `prepare`).
        horizon: The number of months to forecast.
        season_length: The season length (12 for monthly data).
        level: The prediction interval levels, in percent.
        models: Models to run instead of the default `AutoCombo`: `yhat` is then the first model's
            forecast and every model gets a column named by its `alias`.
        engine: `local` runs a process pool on `workers` cores (BLAS at one thread); `dask` runs the
            same chunks on dask.distributed.
        workers: The number of worker processes (default: every core).
        scheduler: With `engine="dask"`, the scheduler's address (default: a LocalCluster).
        progress: Called as `progress(done, total)` after each chunk of series.
        cache: A `ForecastCache` that returns earlier forecasts of the same histories instead of
            fitting them again (default model only).
        calibrate: Calibrate the intervals (default model only) on a rolling-origin backtest of up
            to `CALIBRATION_SERIES` series (`CALIBRATION_WINDOWS` origins, the last one
            `ceil(horizon / 2)` months before the end, scored on the months that have actuals, run
            in the same pool): split-conformal multipliers per horizon step
            (`salesops.demand.intervals`); too few backtest errors leave the intervals as the models
            give them.

    Returns:
        One row per series and step: `unique_id, ds, yhat, model, yhat_lo_L, yhat_hi_L` (each level
        L), then one column per member model (`ETS, Theta, ARIMA, DampedETS`, plus `SeasonalNaive`
        and `STLETS` on seasonal series, or `SBA, TSB` for intermittent series; NaN where a member
        was not fitted).

    Raises:
        DataError: The history or an argument is invalid (e.g. model aliases that are not unique).

    Example:
        >>> hist = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2022-01", periods=36, freq="MS"),
        ...                      "y": np.arange(36.0) % 12 + 10})
        >>> forecast(hist, horizon=2, workers=1)[["ds", "yhat"]].round(1).to_dict("list")["yhat"]
        [10.0, 11.0]
    """
    levels = _check_args(horizon, season_length, level)
    if models is not None:
        aliases = [m.alias for m in models]
        if len(set(aliases)) != len(aliases) or not models:
            raise DataError(
                f"model aliases must be unique and at least one model given (got {aliases}); "
                "pass alias='...' to tell two models apart"
            )
    data = prepare(df)
    series = [
        ((("unique_id", uid),), g["y"].to_numpy(), g["ds"].iloc[-1] + pd.DateOffset(months=1))
        for uid, g in data.groupby("unique_id", sort=False)
    ]
    cache = cache if models is None else None
    origins = _calibration_series(data, horizon, season_length) if calibrate and levels and not models else []
    if origins:  # forecasts and calibration backtest in one pool; `_origin` 0 marks the forecasts
        series = [((*key, ("_origin", 0)), y, first) for key, y, first in series] + origins
    out = _run_cached(
        series, cache, horizon, season_length, levels, models, engine, workers, scheduler, progress
    )
    if origins:
        out = _calibrated(out, data, levels)
    out = _output_columns(out, ["unique_id"], levels)
    order = {uid: i for i, uid in enumerate(data["unique_id"].unique())}
    return out.sort_values(
        ["unique_id", "ds"], key=lambda s: s.map(order) if s.name == "unique_id" else s, kind="stable"
    ).reset_index(drop=True)


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(
            f"{path}: file not found; give the path of a CSV or Parquet file with unique_id, ds, y"
        )
    suffixes = "".join(path.suffixes).lower()
    try:
        if ".parquet" in suffixes or suffixes.endswith(".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={"unique_id": str, "ds": str})
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{path}: cannot read the file ({exc}); use CSV or Parquet with unique_id, ds, y"
        ) from exc


def forecast_file(
    input: str | Path,
    horizon: int,
    season_length: int = 12,
    level: Sequence[int] = (80, 95),
    output: str | Path | None = None,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Forecast a CSV/Parquet file of `unique_id, ds, y`; write CSV/Parquet by `output`'s suffix
    (CSV on stdout when `output` is None).

    Args:
        input: The history file, `.csv` or `.parquet`.
        horizon: The number of months to forecast.
        season_length: The season length (12 for monthly data).
        level: The prediction interval levels, in percent.
        output: The file to write, `.csv` or `.parquet` (default: CSV on stdout).
        engine: `local` (a process pool) or `dask`, as in `forecast`.
        workers: The number of worker processes (default: every core).
        scheduler: With `engine="dask"`, the scheduler's address.

    Returns:
        The forecast frame, as `forecast` returns it.

    Raises:
        DataError: The file cannot be read or breaks the input rules.

    Example:
        >>> forecast_file("history.csv", horizon=18, output="forecast.parquet")  # doctest: +SKIP
    """
    result = forecast(
        _read_table(Path(input)),
        horizon,
        season_length,
        level,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
    )
    written = neutralise_frame(result.assign(ds=result["ds"].dt.strftime("%Y-%m-%d")))  # no formulas
    if output is None:
        written.to_csv(sys.stdout, index=False)
    else:
        out = Path(output)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() in (".parquet", ".pq"):
            result.to_parquet(out, index=False)
        else:
            written.to_csv(out, index=False)
    return result


def backtest(
    df: pd.DataFrame,
    horizon: int,
    windows: int = 3,
    step: int | None = None,
    season_length: int = 12,
    level: Sequence[int] = (80, 95),
    models: list[Model] | None = None,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    min_train: int = 3,
    partial: bool = False,
    cache: ForecastCache | None = None,
) -> pd.DataFrame:
    """Rolling-origin cross-validation: `windows` forecast origins `step` months apart (default
    `horizon`), the last one `horizon` months before the end of each series; each origin refits on
    the history up to its `cutoff` and forecasts `horizon` months.

    Args:
        df: The history, a long frame `unique_id, ds, y`.
        horizon: The number of months each origin forecasts.
        windows: The number of forecast origins per series.
        step: The months between origins (default: `horizon`).
        season_length: The season length (12 for monthly data).
        level: The prediction interval levels, in percent.
        models: Models to run instead of the default, as in `forecast`.
        engine: `local` (a process pool) or `dask`, as in `forecast`.
        workers: The number of worker processes (default: every core).
        scheduler: With `engine="dask"`, the scheduler's address.
        min_train: Origins that leave fewer months of history are skipped.
        partial: Put the last origin one month before the end (its forecast has one actual) and keep
            only the months that have actuals: the windows are then the forecasts earlier cycles
            made, scored on what is known now.
        cache: A `ForecastCache` that reuses forecasts made before for the same history (default
            model only).

    Returns:
        The `forecast` columns plus `cutoff`, `step` (1..horizon) and the actual `y`.

    Example:
        >>> cv = backtest(history, horizon=6, windows=2)  # doctest: +SKIP
        >>> cv.groupby("cutoff").size()                    # doctest: +SKIP
    """
    levels = _check_args(horizon, season_length, level)
    step = step or horizon
    data = prepare(df)
    series = []
    for uid, g in data.groupby("unique_id", sort=False):
        y, ds = g["y"].to_numpy(), g["ds"].to_numpy()
        for w in range(windows):
            end = len(y) - (1 if partial else horizon) - step * (windows - 1 - w)
            if end < min_train:
                continue
            cutoff = pd.Timestamp(ds[end - 1])
            series.append(
                ((("unique_id", uid), ("cutoff", cutoff)), y[:end], cutoff + pd.DateOffset(months=1))
            )
    if not series:
        raise DataError(
            f"no series has {min_train + horizon} months of history for a backtest of horizon "
            f"{horizon}; shorten the horizon or the number of windows"
        )
    cache = cache if models is None else None
    out = _run_cached(series, cache, horizon, season_length, levels, models, engine, workers, scheduler, None)
    out = _output_columns(out, ["unique_id", "cutoff"], levels)
    out = out.merge(data, on=["unique_id", "ds"], how="left")
    if partial:
        out = out[out["y"].notna()]
    out["step"] = (
        (out["ds"].dt.year - out["cutoff"].dt.year) * 12 + out["ds"].dt.month - out["cutoff"].dt.month
    )
    return out.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)
