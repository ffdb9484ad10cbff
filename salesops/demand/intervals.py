"""Calibrated prediction intervals and coherent bands for sums of series (families, the total).

**Calibration (split conformal, per horizon step).** The models' analytic intervals assume their own
error model; combinations of several models are more accurate than each member, so averaged member
bounds are too wide (87-93% of actuals inside an 80% band on the benchmarks), and some series are
noisier than their model thinks. `interval_scales` turns rolling-origin backtest errors into the
multipliers that make the bands hold their level:

1. each backtest row's *scale* is the forecast's own standard deviation at that step, read from its
   upper bound: `s = (yhat_hi_L - yhat) / z_L` (the upper bound is never clipped at zero);
2. the standardised errors `|y - yhat| / s` are pooled over every series and origin, per horizon step
   (with the neighbouring steps, so each pool holds three steps' errors);
3. the multiplier `q_L(h)` is the split-conformal quantile of those errors: the
   `ceil((n + 1) L) / n` empirical quantile of n standardised errors.

`calibrate` then writes `yhat ± q_L(h) · s` (the lower bound clipped at zero for non-negative series).
Steps beyond the backtest's horizon use the last step's multiplier; a step with fewer than
`min_errors` standardised errors keeps the normal quantile (the uncalibrated band).

**Which errors: the most recent ones.** Conformal coverage rests on the calibration errors being
exchangeable with the future's, and forecast errors drift: on aus-retail the 80% quantile of the
standardised errors fell origin after origin (1.45, 1.24, 1.13, 0.97 for origins 48, 36, 24 and 12
months before the cut; the held-out months' own: 0.93). `salesops.demand.forecast` therefore
backtests from the most recent origin that still has actuals for half the horizon
(`ceil(horizon / 2)` months before the end) and scores it on the months that have actuals; the
later steps reuse the last measured multiplier (past the first steps the multipliers hardly change
with the step, as the models' own standard deviations already widen with it). Pooling older origins
(the whole horizon `horizon` months back, or several origins) made the bands wider than their level
on aus-retail. The demand step (`planning.run`) already calibrates on its last six cycles' forecasts
(origins 1 to 6 months back), scored with `cross_calibrate`.

**Bands of sums (families, the total).** A family's forecast is the sum of its SKUs'; its band is
not the sum of their bands, which would assume that every SKU errs the same way at the same time.
`sum_bands` takes the distribution of the sum: with SKU scales `s_i` and a common correlation `rho`
of their errors, the family's scale is `S = sqrt(sum s_i² + rho · ((sum s_i)² - sum s_i²))`
(`rho = 1`: the sum of the bands; `rho = 0`: independent errors). `rho` is the *observed*
correlation of the SKUs' backtest errors (`error_correlation`: the moment estimate that makes the
family's backtest errors have the variance the formula gives, clipped to [0, 1]); the band's
multiplier is again a conformal quantile, of the family's standardised backtest errors. The total
is the sum of the families, with the correlation between families. A band is never wider than the
sum of its parts' bands (the band if every part erred the same way at once).

Example:
    >>> import pandas as pd
    >>> bt = pd.DataFrame({"unique_id": "a", "step": 1, "y": [10.0, 12.0], "yhat": [11.0, 11.0],
    ...                    "yhat_lo_80": [9.0, 9.0], "yhat_hi_80": [13.0, 13.0]})
    >>> interval_scales(bt, (80,), min_errors=1)[["step", "level"]].values.tolist()
    [[1, 80]]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..metrics import normal_quantile

__all__ = ["calibrate", "cross_calibrate", "error_correlation", "interval_scales", "scale_of", "sum_bands"]

MIN_ERRORS = 30  # standardised errors a step needs before its multiplier replaces the normal quantile


def scale_of(frame: pd.DataFrame, levels, center: str = "yhat") -> np.ndarray:
    """The forecasts' standard deviation per row, read from the upper bound of the widest level.

    Args:
        frame: Rows with `center` and `yhat_hi_L` for each level L.
        levels: The interval levels present in `frame` (percent).
        center: The column the bounds surround.

    Returns:
        `(yhat_hi_L - center) / z_L` for the largest level L (0 where it is not positive or finite).
    """
    lv = max(int(v) for v in levels)
    s = (frame[f"yhat_hi_{lv}"].to_numpy(float) - frame[center].to_numpy(float)) / normal_quantile(lv)
    return np.where(np.isfinite(s) & (s > 0), s, 0.0)


def _conformal_quantile(values: np.ndarray, level: float) -> float:
    n = values.size
    rank = min(n, math.ceil((n + 1) * level / 100))
    return float(np.partition(values, rank - 1)[rank - 1])


def interval_scales(
    bt: pd.DataFrame, levels, pool: int = 1, min_errors: int = MIN_ERRORS, center: str = "yhat"
) -> pd.DataFrame:
    """Interval multipliers per horizon step from rolling-origin backtest errors (split conformal).

    Args:
        bt: Backtest rows: `step, y, center` and `yhat_hi_L` for each level (as `engine.backtest` returns).
        levels: The interval levels (percent), e.g. (80, 95).
        pool: Neighbouring steps pooled on each side (1: steps h-1, h and h+1).
        min_errors: Standardised errors a step needs; with fewer it keeps the normal quantile.
        center: The point forecast column.

    Returns:
        `step, level, q, errors`: the multiplier of the forecast's scale at each step and level, and
        how many standardised errors it rests on.
    """
    levels = tuple(sorted({int(v) for v in levels}))
    cols = ["step", "level", "q", "errors"]
    if bt is None or bt.empty or not levels:
        return pd.DataFrame(columns=cols)
    s = scale_of(bt, levels, center)
    err = np.abs(bt["y"].to_numpy(float) - bt[center].to_numpy(float))
    keep = (s > 0) & np.isfinite(err)
    z = err[keep] / s[keep]
    steps = bt["step"].to_numpy()[keep]
    rows = []
    for h in range(1, int(bt["step"].max()) + 1):
        near = z[np.abs(steps - h) <= pool]
        for lv in levels:
            if near.size >= min_errors:
                q = _conformal_quantile(near, lv)
            else:
                q = normal_quantile(lv)
            rows.append({"step": h, "level": lv, "q": q, "errors": int(near.size)})
    return pd.DataFrame(rows, columns=cols)


def calibrate(
    fc: pd.DataFrame, scales: pd.DataFrame, levels, nonnegative: pd.Series | None = None
) -> pd.DataFrame:
    """Rewrites the interval bounds of a forecast as `yhat ± q_L(step) · scale`.

    Args:
        fc: Forecast rows `unique_id, ds, yhat, yhat_lo_L, yhat_hi_L` (a `step` column, 1 = the first
            month, is derived from `ds` per series when absent).
        scales: `interval_scales`' frame; empty leaves `fc` as it is.
        levels: The levels to rewrite.
        nonnegative: Per `unique_id`, True where the lower bound is clipped at zero (default: series
            whose forecast is never negative).

    Returns:
        A copy of `fc` with calibrated bounds; the lower bound never above `yhat`, nor below zero for
        non-negative series.
    """
    levels = tuple(sorted({int(v) for v in levels}))
    if scales is None or scales.empty or fc.empty or not levels:
        return fc
    out = fc.copy()
    if "step" in out.columns:
        step = out["step"].to_numpy()
    else:
        step = out.groupby("unique_id", sort=False)["ds"].rank(method="dense").astype(int).to_numpy()
    s = scale_of(out, levels)
    yhat = out["yhat"].to_numpy(float)
    if nonnegative is None:
        floor = out.groupby("unique_id", sort=False)["yhat"].transform("min").to_numpy() >= 0
    else:
        floor = out["unique_id"].map(nonnegative).fillna(False).to_numpy(bool)
    last = int(scales["step"].max())
    for lv in levels:
        table = scales[scales["level"] == lv].set_index("step")["q"]
        if table.empty:
            continue
        q = table.reindex(np.minimum(step, last)).to_numpy(float)
        lo, hi = yhat - q * s, yhat + q * s
        out[f"yhat_lo_{lv}"] = np.where(floor, np.maximum(lo, 0.0), lo)
        out[f"yhat_hi_{lv}"] = hi
    return out


def error_correlation(
    bt: pd.DataFrame, groups: pd.Series, levels, center: str = "yhat", keys=("cutoff", "step")
) -> pd.Series:
    """The observed correlation of the series' backtest errors within each group (e.g. a family).

    The moment estimate: `rho` such that the group's summed errors have, on average over every
    origin and step, the variance `sum s_i² + rho · ((sum s_i)² - sum s_i²)` of a sum of series
    with scales `s_i` and common correlation `rho`; clipped to [0, 1].

    Args:
        bt: Backtest rows `unique_id, cutoff, step, y, center` with (calibrated) bounds.
        groups: The group of each `unique_id` (index: unique_id).
        levels: The levels whose widest upper bound gives the scales.
        center: The point forecast column.
        keys: The columns that identify one origin and step.

    Returns:
        `rho` per group (groups of one series get 0; NaN where the backtest has no errors).
    """
    frame = bt.assign(
        _group=bt["unique_id"].map(groups),
        _e=bt["y"] - bt[center],
        _s=scale_of(bt, levels, center),
    ).dropna(subset=["_group", "_e"])
    frame = frame.assign(_s2=frame["_s"] ** 2)
    agg = frame.groupby(["_group", *keys], sort=False).agg(
        e=("_e", "sum"), s=("_s", "sum"), s2=("_s2", "sum"), n=("_e", "size")
    )
    agg = agg.assign(e2=agg["e"] ** 2, cross=agg["s"] ** 2 - agg["s2"])
    per = agg.groupby(level="_group").agg(e2=("e2", "sum"), s2=("s2", "sum"), cross=("cross", "sum"))
    rho = (per["e2"] - per["s2"]) / per["cross"].where(per["cross"] > 0)
    return rho.fillna(0.0).clip(0.0, 1.0).rename("rho").rename_axis(groups.name or "group")


def _group_scale(frame: pd.DataFrame, by: list[str], rho: pd.Series | float) -> pd.DataFrame:
    agg = frame.assign(_s2=frame["_s"] ** 2).groupby(by, sort=False, as_index=False)
    out = agg.agg(center=("_c", "sum"), s=("_s", "sum"), s2=("_s2", "sum"))
    r = out[by[0]].map(rho).fillna(0.0).to_numpy() if isinstance(rho, pd.Series) else float(rho)
    out["scale"] = np.sqrt(np.maximum(out["s2"] + r * (out["s"] ** 2 - out["s2"]), 0.0))
    return out


def sum_bands(
    fc: pd.DataFrame,
    groups: pd.Series,
    levels,
    bt: pd.DataFrame | None = None,
    center: str = "yhat",
    bt_center: str = "yhat",
    min_errors: int = MIN_ERRORS,
) -> pd.DataFrame:
    """Coherent bands for groups of series (families) and their total, from the distribution of the sum.

    Args:
        fc: Forecast rows `unique_id, ds, center` and `yhat_hi_L` for each level (calibrated).
        groups: The group (family) of each `unique_id` (index: unique_id).
        levels: The interval levels (percent).
        bt: The backtest (`unique_id, cutoff, step, ds, y, bt_center, yhat_hi_L`, calibrated as `fc`)
            from which the correlations and the bands' multipliers come; None assumes independent
            errors and normal quantiles.
        center: The column summed in `fc` (e.g. `consensus`); bounds are read relative to `yhat`
            when `fc` has it, else relative to `center`.
        bt_center: The point forecast column of `bt`.
        min_errors: Standardised errors needed before the conformal multiplier replaces the normal one.

    Returns:
        `level, unique_id, ds, center, rho, lo_L, hi_L` for each group (`level` "family") and the
        total (`level` "total", `unique_id` "Total"); the lower bounds are clipped at zero when every
        summed forecast is non-negative.
    """
    from .hierarchy import TOTAL

    levels = tuple(sorted({int(v) for v in levels}))
    base = "yhat" if "yhat" in fc.columns else center
    sku = fc.assign(_g=fc["unique_id"].map(groups).fillna("(no family)"), _c=fc[center])
    sku["_s"] = scale_of(fc, levels, base)
    rho_f = pd.Series(dtype=float)
    rho_t = 0.0
    q_f = q_t = None
    if bt is not None and not bt.empty:
        rho_f = error_correlation(bt, groups, levels, bt_center)
        b = bt.assign(
            _g=bt["unique_id"].map(groups).fillna("(no family)"),
            _c=bt[bt_center],
            _s=scale_of(bt, levels, bt_center),
        )
        fam_bt = _group_scale(b, ["_g", "cutoff", "step"], rho_f)
        fam_bt = fam_bt.merge(
            b.groupby(["_g", "cutoff", "step"], sort=False, as_index=False)["y"].sum(),
            on=["_g", "cutoff", "step"],
        )
        q_f = _multipliers(fam_bt, levels, min_errors)
        # the total: families' errors with the observed correlation between families
        tot_in = fam_bt.rename(columns={"center": "_c", "scale": "_s", "_g": "_fam"}).assign(_one=TOTAL)
        tot_in["_e"] = tot_in["y"] - tot_in["_c"]
        per = (
            tot_in.assign(_s2=tot_in["_s"] ** 2)
            .groupby(["cutoff", "step"])
            .agg(e=("_e", "sum"), s=("_s", "sum"), s2=("_s2", "sum"))
        )
        cross = (per["s"] ** 2 - per["s2"]).sum()
        rho_t = float(np.clip(((per["e"] ** 2).sum() - per["s2"].sum()) / cross, 0, 1)) if cross > 0 else 0.0
        tot_bt = _group_scale(tot_in, ["_one", "cutoff", "step"], rho_t)
        tot_bt = tot_bt.merge(
            tot_in.groupby(["cutoff", "step"], as_index=False)["y"].sum(), on=["cutoff", "step"]
        )
        q_t = _multipliers(tot_bt, levels, min_errors)
    fam = _group_scale(sku, ["_g", "ds"], rho_f)
    fam["rho"] = fam["_g"].map(rho_f).fillna(0.0)
    tot_in = fam.rename(columns={"center": "_c", "scale": "_s"}).assign(_one=TOTAL)
    tot = _group_scale(tot_in, ["_one", "ds"], rho_t).assign(rho=rho_t)
    nonneg = bool((fc[center].dropna() >= 0).all())
    # never wider than the sum of the SKUs' bands (the band of a sum whose parts err the same way at once)
    widths = {}
    for lv in levels:
        widths[f"_up_{lv}"] = (fc[f"yhat_hi_{lv}"] - fc[base]).clip(lower=0)
        lo_col = f"yhat_lo_{lv}"
        widths[f"_dn_{lv}"] = (fc[base] - fc[lo_col]).clip(lower=0) if lo_col in fc else widths[f"_up_{lv}"]
    sku = sku.assign(**widths)
    caps = {
        "family": sku.groupby(["_g", "ds"], sort=False)[list(widths)].sum().rename_axis(["unique_id", "ds"]),
        "total": sku.groupby("ds", sort=False)[list(widths)].sum().assign(unique_id=TOTAL),
    }
    caps["total"] = caps["total"].reset_index().set_index(["unique_id", "ds"])
    out = []
    for frame, level, key, qs in ((fam, "family", "_g", q_f), (tot, "total", "_one", q_t)):
        frame = frame.rename(columns={key: "unique_id"})
        cap = caps[level].reindex(pd.MultiIndex.from_frame(frame[["unique_id", "ds"]]))
        step = frame.groupby("unique_id", sort=False)["ds"].rank(method="dense").astype(int).to_numpy()
        res = frame[["unique_id", "ds", "center", "rho"]].assign(level=level)
        for lv in levels:
            if qs is None or qs.get(lv) is None:
                q = np.full(len(frame), normal_quantile(lv))
            else:
                q = qs[lv].reindex(np.minimum(step, qs[lv].index.max())).to_numpy(float)
            half = q * frame["scale"].to_numpy()
            c = frame["center"].to_numpy()
            lo = c - np.minimum(half, cap[f"_dn_{lv}"].to_numpy())
            res[f"lo_{lv}"] = np.maximum(lo, 0.0) if nonneg else lo
            res[f"hi_{lv}"] = c + np.minimum(half, cap[f"_up_{lv}"].to_numpy())
        out.append(res)
    result = pd.concat(out, ignore_index=True).rename(columns={"center": center})
    result["unique_id"] = result["unique_id"].astype(str)
    cols = ["level", "unique_id", "ds", center, "rho"] + [f"{s}_{lv}" for lv in levels for s in ("lo", "hi")]
    return result[cols].reset_index(drop=True)


def cross_calibrate(bt: pd.DataFrame, levels, nonnegative: pd.Series | None = None) -> pd.DataFrame:
    """A backtest's bounds calibrated origin by origin, each with the multipliers of the *other* origins.

    Calibrating a backtest with multipliers learnt from itself would score its coverage in-sample;
    leaving each origin (`cutoff`) out keeps the coverage an out-of-sample figure (cross-conformal).
    A backtest with one origin is calibrated with its own multipliers.

    Args:
        bt: Backtest rows `unique_id, cutoff, ds, step, y, yhat` and the bounds of each level.
        levels: The interval levels (percent).
        nonnegative: Per `unique_id`, True where lower bounds are clipped at zero.

    Returns:
        A copy of `bt`, same rows and columns, with calibrated bounds.
    """
    levels = tuple(sorted({int(v) for v in levels}))
    if bt is None or bt.empty or not levels:
        return bt
    cutoffs = bt["cutoff"].unique()
    if len(cutoffs) < 2:
        return calibrate(bt, interval_scales(bt, levels), levels, nonnegative)
    parts = []
    for c in cutoffs:
        mine = bt["cutoff"] == c
        parts.append(calibrate(bt[mine], interval_scales(bt[~mine], levels), levels, nonnegative))
    return pd.concat(parts).loc[bt.index]


def _multipliers(frame: pd.DataFrame, levels, min_errors: int) -> dict[int, pd.Series | None]:
    """Conformal multipliers per step of a group's standardised backtest errors (pooled with neighbours)."""
    keep = frame["scale"] > 0
    z = (np.abs(frame["y"] - frame["center"]) / frame["scale"])[keep].to_numpy(float)
    steps = frame["step"][keep].to_numpy()
    out: dict[int, pd.Series | None] = {}
    last = int(frame["step"].max()) if len(frame) else 0
    for lv in levels:
        qs = {}
        for h in range(1, last + 1):
            near = z[np.abs(steps - h) <= 1]
            qs[h] = _conformal_quantile(near, lv) if near.size >= min_errors else normal_quantile(lv)
        out[lv] = pd.Series(qs) if qs else None
    return out
