"""Forecast accuracy metrics: MAPE, WAPE, sMAPE, MASE, RMSSE, bias, tracking signal, coverage, MSIS,
value add.

Every function takes arrays of actuals and forecasts (any array-like; NaN pairs are skipped) and
returns a float. Relative errors are fractions (0.1 is 10%; sMAPE runs from 0 to 2): percentages
exist only where a report displays them.
Scaled errors (MASE, RMSSE) need the training history `y_train` and the season length: they divide
by the in-sample error of the seasonal naive forecast, so they work on intermittent series where
MAPE is undefined.

Example:
    >>> round(smape([100, 200], [110, 180]), 5)
    0.10025
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = [
    "bias",
    "coverage",
    "evaluate",
    "forecast_value_add",
    "mae",
    "mape",
    "mase",
    "msis",
    "normal_quantile",
    "relative_bias",
    "rmse",
    "rmsse",
    "smape",
    "tracking_signal",
    "wape",
]


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=float).ravel()
    f = np.asarray(forecast, dtype=float).ravel()
    if a.shape != f.shape:
        raise ValueError(f"actual has {a.size} values but forecast has {f.size}; pass aligned arrays")
    keep = np.isfinite(a) & np.isfinite(f)
    return a[keep], f[keep]


def mae(actual, forecast) -> float:
    """Mean absolute error, in units.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        The mean of |F - A| (NaN when no pair is finite).

    Example:
        >>> mae([1, 2], [2, 4])
        1.5
    """
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(f - a))) if a.size else np.nan


def rmse(actual, forecast) -> float:
    """Root mean squared error, in units.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        The square root of the mean of (F - A)² (NaN when no pair is finite).

    Example:
        >>> round(rmse([0, 0], [3, 4]), 2)
        3.54
    """
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((f - a) ** 2))) if a.size else np.nan


def mape(actual, forecast) -> float:
    """Mean absolute percentage error as a fraction, over the periods with a non-zero actual.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        The mean of |F - A| / |A| (NaN when every actual is zero).

    Example:
        >>> mape([100, 200], [110, 180])
        0.1
    """
    a, f = _pair(actual, forecast)
    nz = a != 0
    return float(np.mean(np.abs((f[nz] - a[nz]) / a[nz]))) if nz.any() else np.nan


def wape(actual, forecast) -> float:
    """Weighted absolute percentage error as a fraction: sum |F - A| / sum |A|.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        The error as a fraction of the actual volume (NaN when the actuals sum to zero).

    Example:
        >>> wape([100, 300], [110, 270])
        0.1
    """
    a, f = _pair(actual, forecast)
    denom = np.abs(a).sum()
    return float(np.abs(f - a).sum() / denom) if denom > 0 else np.nan


def smape(actual, forecast) -> float:
    """Symmetric MAPE as in M3, as a fraction: mean of 2·|F - A| / (|F| + |A|); a 0/0 pair counts as 0.

    M3's published sMAPE is this times 100.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        A value from 0 to 2.

    Example:
        >>> smape([100], [150])
        0.4
    """
    a, f = _pair(actual, forecast)
    if not a.size:
        return np.nan
    denom = np.abs(a) + np.abs(f)
    terms = np.divide(2 * np.abs(f - a), denom, out=np.zeros_like(a), where=denom > 0)
    return float(terms.mean())


def _naive_scale(y_train, season_length: int, power: int) -> float:
    y = np.asarray(y_train, dtype=float)
    y = y[np.isfinite(y)]
    m = season_length if y.size > season_length else 1
    if y.size <= m:
        return np.nan
    diffs = np.abs(y[m:] - y[:-m]) ** power
    return float(diffs.mean())


def mase(actual, forecast, y_train, season_length: int = 12) -> float:
    """Mean absolute scaled error: MAE divided by the in-sample MAE of the seasonal naive forecast.

    Falls back to the one-step naive scale when the history is shorter than one season.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.
        y_train: The series' history, for the scale.
        season_length: The season length of the scale (12 for monthly data).

    Returns:
        The MASE (NaN when the scale is zero or undefined).

    Example:
        >>> mase([3, 5], [4, 4], y_train=[1, 2, 3], season_length=1)
        1.0
    """
    scale = _naive_scale(y_train, season_length, 1)
    if not scale or not np.isfinite(scale):
        return np.nan
    return mae(actual, forecast) / scale


def rmsse(actual, forecast, y_train, season_length: int = 12) -> float:
    """Root mean squared scaled error (M5): RMSE² over the seasonal naive in-sample MSE, square-rooted.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.
        y_train: The series' history, for the scale.
        season_length: The season length of the scale (12 for monthly data).

    Returns:
        The RMSSE (NaN when the scale is zero or undefined, or no pair is finite).

    Example:
        >>> rmsse([3], [5], y_train=[1, 2, 3], season_length=1)
        2.0
    """
    scale = _naive_scale(y_train, season_length, 2)
    if not scale or not np.isfinite(scale):
        return np.nan
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((f - a) ** 2) / scale)) if a.size else np.nan


def bias(actual, forecast) -> float:
    """Mean error F − A in units (positive = over-forecast).

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        The mean of F - A (NaN when no pair is finite).

    Example:
        >>> bias([10, 20], [12, 22])
        2.0
    """
    a, f = _pair(actual, forecast)
    return float(np.mean(f - a)) if a.size else np.nan


def relative_bias(actual, forecast) -> float:
    """Bias as a fraction of actual volume: sum(F - A) / sum |A| (positive = over-forecast).

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        The bias as a fraction (NaN when the actuals sum to zero).

    Example:
        >>> relative_bias([10, 30], [12, 32])
        0.1
    """
    a, f = _pair(actual, forecast)
    denom = np.abs(a).sum()
    return float((f - a).sum() / denom) if denom > 0 else np.nan


def tracking_signal(actual, forecast) -> float:
    """Tracking signal: cumulative error (A − F) over the mean absolute deviation.

    Beyond ±4 the forecast is persistently biased.

    Args:
        actual: The actual values.
        forecast: The forecasts, aligned with `actual`.

    Returns:
        The sum of A - F over the mean of |A - F| (0.0 when every forecast is exact, NaN when no pair
        is finite).

    Example:
        >>> tracking_signal([10, 10], [8, 9])
        2.0
    """
    a, f = _pair(actual, forecast)
    mad = np.mean(np.abs(a - f)) if a.size else 0.0
    if mad == 0:
        return 0.0 if a.size else np.nan
    return float(np.sum(a - f) / mad)


def coverage(actual, lo, hi) -> float:
    """Share of actuals inside [lo, hi], as a fraction.

    Args:
        actual: The actual values.
        lo: The lower bounds.
        hi: The upper bounds.

    Returns:
        The fraction of finite triples with lo <= actual <= hi.

    Example:
        >>> coverage([1, 5, 9, 3], [0, 0, 0, 3], [4, 6, 8, 3])
        0.75
    """
    a = np.asarray(actual, dtype=float).ravel()
    lo = np.asarray(lo, dtype=float).ravel()
    hi = np.asarray(hi, dtype=float).ravel()
    keep = np.isfinite(a) & np.isfinite(lo) & np.isfinite(hi)
    if not keep.any():
        return np.nan
    return float(np.mean((a[keep] >= lo[keep]) & (a[keep] <= hi[keep])))


def msis(actual, lo, hi, y_train, level: float = 95, season_length: int = 12) -> float:
    """Mean scaled interval score of one series' prediction interval (M4 competition definition).

    The interval score of each step is its width plus a penalty of 2/a times the distance by which
    the actual falls outside (a = 1 - level/100, e.g. 0.05 for a 95% interval); MSIS is its mean over
    the steps divided by the in-sample mean absolute error of the seasonal naive forecast (as MASE).
    Lower is better: a narrow band that still holds the actuals. Average it over series as M4 did.

        MSIS = mean_t[(U_t - L_t) + 2/a (L_t - Y_t) 1{Y_t < L_t} + 2/a (Y_t - U_t) 1{Y_t > U_t}]
               / mean_{t>m} |y_t - y_{t-m}|

    Args:
        actual: The actuals of the forecast steps.
        lo: The interval's lower bounds, aligned with `actual`.
        hi: The interval's upper bounds, aligned with `actual`.
        y_train: The series' history (for the scale); one-step naive scale under one season.
        level: The interval's level in percent.
        season_length: The season length of the scale (12 for monthly data).

    Returns:
        The MSIS (NaN when the scale is zero or no step has finite values).

    Example:
        >>> msis([10, 20], [8, 8], [12, 12], y_train=[1, 2, 3, 4], level=80, season_length=1)
        44.0
    """
    a = np.asarray(actual, dtype=float).ravel()
    lo = np.asarray(lo, dtype=float).ravel()
    hi = np.asarray(hi, dtype=float).ravel()
    if not a.shape == lo.shape == hi.shape:
        raise ValueError(f"actual, lo and hi must be aligned (sizes {a.size}, {lo.size}, {hi.size})")
    keep = np.isfinite(a) & np.isfinite(lo) & np.isfinite(hi)
    scale = _naive_scale(y_train, season_length, 1)
    if not keep.any() or not scale or not np.isfinite(scale):
        return np.nan
    a, lo, hi = a[keep], lo[keep], hi[keep]
    alpha = (100 - level) / 100
    score = (hi - lo) + 2 / alpha * (np.maximum(lo - a, 0) + np.maximum(a - hi, 0))
    return float(score.mean() / scale)


def normal_quantile(level: float) -> float:
    """The standard normal quantile bounding a central prediction interval of `level` percent.

    Args:
        level: The interval's level in percent (80 for an 80% interval).

    Returns:
        z such that P(-z < Z < z) = level / 100.

    Example:
        >>> round(normal_quantile(80), 4)
        1.2816
    """
    return float(norm.ppf(0.5 + level / 200))


def forecast_value_add(
    actual, forecasts: dict[str, np.ndarray], metric=wape, baseline: str | None = None
) -> pd.DataFrame:
    """Forecast value add: each forecast's error and its improvement over the previous one.

    Args:
        actual: The actual values.
        forecasts: Forecasts by name, in process order (e.g. naive, statistical, consensus), each
            aligned with `actual`.
        metric: The error metric, `metric(actual, forecast) -> float` (lower is better).
        baseline: The forecast `vs_baseline` compares with (default: the first).

    Returns:
        One row per forecast: `forecast, error, value_add, vs_baseline`, where value_add = previous
        error − this error (positive = the step helped) and `vs_baseline` = baseline error − this
        error.

    Example:
        >>> forecast_value_add([100, 100], {"naive": [80, 120], "statistical": [90, 110]})["value_add"].round(6).tolist()
        [nan, 0.1]
    """
    names = list(forecasts)
    errors = [metric(actual, forecasts[n]) for n in names]
    base = errors[names.index(baseline)] if baseline else errors[0]
    out = pd.DataFrame({"forecast": names, "error": errors})
    out["value_add"] = [np.nan] + [errors[i - 1] - errors[i] for i in range(1, len(errors))]
    out["vs_baseline"] = base - out["error"]
    return out


def evaluate(
    frame: pd.DataFrame,
    models: list[str],
    train: pd.DataFrame | None = None,
    season_length: int = 12,
    by: str | list[str] = "unique_id",
) -> pd.DataFrame:
    """Scores every model column of a long frame of actuals (`y`) and forecasts, per group `by`.

    Args:
        frame: Actuals `y` and one forecast column per model, with the `by` columns.
        models: The forecast columns to score.
        train: The histories `unique_id, ds, y`, for MASE (only when `by` has `unique_id`).
        season_length: The season length of MASE's scale.
        by: The column or columns to group by.

    Returns:
        One row per group and model: `by, model, mape, wape, smape, bias`, plus `mase` with `train`.

    Example:
        >>> frame = pd.DataFrame({"unique_id": ["a", "a"], "y": [100, 300], "naive": [110, 270]})
        >>> evaluate(frame, ["naive"])[["unique_id", "model", "wape"]].to_dict("records")
        [{'unique_id': 'a', 'model': 'naive', 'wape': 0.1}]
    """
    by = [by] if isinstance(by, str) else list(by)
    histories = {}
    if train is not None:
        histories = {
            uid: g["y"].to_numpy() for uid, g in train.sort_values("ds").groupby("unique_id", sort=False)
        }
    rows = []
    for key, g in frame.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        for model in models:
            row = dict(zip(by, key))
            row.update(
                model=model,
                mape=mape(g["y"], g[model]),
                wape=wape(g["y"], g[model]),
                smape=smape(g["y"], g[model]),
                bias=bias(g["y"], g[model]),
            )
            if histories and "unique_id" in by:
                row["mase"] = mase(g["y"], g[model], histories.get(row["unique_id"], []), season_length)
            rows.append(row)
    return pd.DataFrame(rows)
