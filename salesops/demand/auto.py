"""The default forecaster: a per-series combination of strong, different models.

`AutoCombo` classifies each series first (from evidence in the series itself):
- no demand in the last season (at least 6 months, with twice that history): zero (discontinued);
- a break (demand restarted after a season of zeros, or collapsed below a fifth of the same months a
  year earlier): the models below are fitted on the recent regime only, and `model_` says so;
- intermittent (average demand interval above 1.32, Syntetos-Boylan): the mean of SBA and TSB;
- otherwise: ETS (trend by AICc, seasonality by the M3 test), the M3 Theta method, ARIMA (order
  by KPSS + AICc) and ETS with its trend always damped are fitted, plus seasonal naive and STL +
  damped ETS when the series is seasonal, each forecast is sanity-checked (finite, within ten times the history),
  and the survivors are combined (mean by default; the literature's "Comb"/SCUM result: combinations of
  strong, different members beat each member). A member that fails is dropped and named.
Intervals average the members' bounds (quantile averaging). Months of the year with no demand in
each of the last two years are forecast as zero (seasonal zeros, e.g. products not sold in winter),
intermittent series included.

Example:
    >>> import numpy as np
    >>> y = 100 + 20 * np.sin(np.arange(48) * np.pi / 6) + np.arange(48) * 0.5
    >>> m = AutoCombo().fit(y)
    >>> m.model_, sorted(m.member_forecasts(3))  # doctest: +NORMALIZE_WHITESPACE
    ('Combo(ETS,Theta,ARIMA,DampedETS,SeasonalNaive,STLETS)',
     ['ARIMA', 'DampedETS', 'ETS', 'STLETS', 'SeasonalNaive', 'Theta'])
"""

from __future__ import annotations

import numpy as np

from .models import (
    ARIMA,
    ETS,
    SBA,
    STLETS,
    TSB,
    Model,
    Naive,
    SeasonalNaive,
    Theta,
    as_series,
    is_intermittent,
    seasonality_test,
)

__all__ = ["DEFAULT_MEMBERS", "AutoCombo", "recent_regime_start"]

DEFAULT_MEMBERS = ("ETS", "Theta", "ARIMA", "DampedETS", "SeasonalNaive", "STLETS")


def recent_regime_start(y: np.ndarray, season_length: int = 12, drop: float = 0.2) -> int:
    """Where the series' current regime starts (0 = the whole history is one regime).

    Two breaks are detected, both from evidence in the series itself:
    - a restart: demand resumes after at least one season of zeros; the regime starts at the restart;
    - a collapse: a year's demand fell below `drop` times the year before (seasonality cancels out;
      the latest such fall with at least two seasons since, at its deepest month); or, over the last
      months (3 up to one season), demand fell below `drop` times the same months a year earlier: the
      regime starts at the earliest month whose fall is within 1.5 times the deepest (noise moves the deepest).
    Fitting on the regime only keeps the old level (or the zeros) out of the forecast.

    Args:
        y: The series, oldest first.
        season_length: The season length (at least 2 is used).
        drop: The fraction of the earlier level below which demand has collapsed.

    Returns:
        The index in `y` of the regime's first month.

    Example:
        >>> recent_regime_start(np.r_[np.full(24, 5.0), np.zeros(12), np.ones(6)])
        36
        >>> recent_regime_start(np.r_[np.full(30, 100.0), np.full(6, 3.0)])
        30
        >>> recent_regime_start(np.r_[np.full(40, 900.0), np.full(30, 40.0)])
        40
    """
    y = np.asarray(y, dtype=float)
    m = max(int(season_length), 2)
    n = y.size
    start = 0
    zero = np.r_[y == 0, False]
    run = 0
    for i in range(n):  # last run of >= m zeros that ends before the end of the series
        run = run + 1 if zero[i] else 0
        if run >= m and not zero[i + 1] and i + 1 < n:
            start = i + 1
    if n - start >= 3 * m and np.all(y[start:] >= 0):
        # an older collapse: a year's demand below `drop` times the year before, with two seasons since
        cums = np.r_[0.0, np.cumsum(y)]
        ts = np.arange(start + m, n - 2 * m + 1)
        before, after = cums[ts] - cums[ts - m], cums[ts + m] - cums[ts]
        ratio = np.divide(after, before, out=np.full(ts.size, np.inf), where=before > 0)
        hits = np.flatnonzero(ratio < drop)
        if hits.size:
            run = hits[
                np.r_[True, np.diff(hits) > 1].nonzero()[0][-1] :
            ]  # the latest run of collapsing years
            start = int(ts[run[np.argmin(ratio[run])]])
    if n - start >= 2 * m and np.all(y[start:] >= 0):
        starts = np.arange(max(n - m, start + m), n - 2)
        before = np.array([y[t - m : n - m].sum() for t in starts])
        after = np.array([y[t:].sum() for t in starts])
        ratio = np.divide(after, before, out=np.full(starts.size, np.inf), where=before > 0)
        if starts.size and ratio.min() < drop:
            # the longest regime whose fall is about as deep as the deepest (noise moves the minimum)
            start = int(starts[np.flatnonzero(ratio <= 1.5 * ratio.min())[0]])
    return start


class AutoCombo(Model):
    """Combination of ETS, Theta, ARIMA, damped ETS and, on seasonal series, seasonal naive and STL +
    damped ETS (mean or median); SBA+TSB for intermittent series.

    Args:
        season_length: The season length (12 for monthly data).
        combine: How the members' forecasts and bounds are combined: `mean` or `median`.
        members: Models to combine instead of the default members (each fitted as a fresh copy).
        alias: The name of the forecast column (default `AutoCombo`).

    Raises:
        ValueError: `combine` is neither `mean` nor `median`.

    Example:
        >>> import numpy as np
        >>> AutoCombo().fit(np.r_[np.zeros(6), 3.0, 0, 0, 2, 0, 0, 4, 0]).model_
        'Combo(SBA,TSB)'
    """

    alias = "AutoCombo"

    def __init__(
        self,
        season_length: int = 12,
        combine: str = "mean",
        members: tuple | None = None,
        alias: str | None = None,
    ):
        super().__init__(season_length, alias)
        if combine not in ("mean", "median"):
            raise ValueError(f"combine must be 'mean' or 'median', not {combine!r}")
        self.combine = combine
        self.members = members

    def _member_models(self, y: np.ndarray) -> list[Model]:
        m = self.season_length
        if self.members is not None:
            return [mm.new() for mm in self.members]
        # seasonal naive joins on seasonal series: it keeps last year's exact shape (troughs near zero,
        # sharp peaks) that smoothed members round off; it improved the combination on both benchmarks.
        # Damped ETS (ETS picks no trend on half or more of the series) and, on seasonal series, STL + damped ETS (a
        # seasonal shape that evolves, from the whole history) improved it on pbs, aus-retail and the demo
        members = [ETS(m), Theta(m), ARIMA(m), ETS(m, trends=("damped",), alias="DampedETS")]
        return members + ([SeasonalNaive(m), STLETS(m)] if seasonality_test(y, m) else [])

    def fit(self, y) -> AutoCombo:
        """Classify the series, fit the members that suit it on its recent regime, and say what ran.

        Args:
            y: The series, oldest first (finite numbers).

        Returns:
            The model itself, fitted: `model_` names what ran (e.g. `Combo(ETS,Theta,ARIMA)`).
        """
        y = as_series(y)
        self.y_ = y
        self.nonnegative_ = bool(np.all(y >= 0))
        self.fallback_ = None
        self.intermittent_ = is_intermittent(y)
        m = self.season_length
        recent = y[-max(m, 6) :]
        if y.size >= 2 * recent.size and np.all(recent == 0):
            self.fitted_members_ = [Naive(m).fit(recent)]
            self.used_ = list(self.fitted_members_)
            self.model_ = f"Zero (no demand in the last {recent.size} months)"
            return self
        if y.size < 3 or np.ptp(y) == 0:
            self.fitted_members_ = [Naive(m).fit(y)]
            self.used_ = list(self.fitted_members_)
            self.model_ = "Naive (fallback: " + ("constant series)" if y.size >= 3 else f"{y.size} points)")
            return self
        self.regime_start_ = recent_regime_start(y, m)
        fit_on = y[self.regime_start_ :]
        if fit_on.size < 3 or np.ptp(fit_on) == 0:
            self.fitted_members_ = [Naive(m).fit(fit_on)]
            self.used_ = list(self.fitted_members_)
            self.model_ = f"Naive (recent regime: {fit_on.size} months)"
            return self
        self.intermittent_ = is_intermittent(fit_on)
        candidates = [SBA(m), TSB(m)] if self.intermittent_ else self._member_models(fit_on)
        self.fitted_members_ = [c.fit(fit_on) for c in candidates]
        self.used_ = [c for c in self.fitted_members_ if c.fallback_ is None]
        if not self.used_:
            self.used_ = self.fitted_members_[:1]
            self.model_ = self.used_[0].model_
        elif len(self.used_) == 1:
            self.model_ = self.used_[0].model_
        else:
            self.model_ = "Combo(" + ",".join(c.alias for c in self.used_) + ")"
        if self.regime_start_:
            self.model_ += f" (recent regime: {fit_on.size} months)"
        return self

    def member_forecasts(self, h: int, level=None) -> dict[str, dict]:
        """Each fitted member's forecast, by alias (including members dropped from the combination).

        Args:
            h: The number of steps to forecast.
            level: The prediction interval levels, in percent (default: none).

        Returns:
            Each member's `predict(h, level)` dict, by alias.
        """
        return {c.alias: c.predict(h, level) for c in self.fitted_members_}

    def predict(self, h: int, level=None) -> dict:
        """Forecast `h` steps: the members' combined forecast and bounds, seasonal zeros kept at zero.

        Args:
            h: The number of steps to forecast.
            level: The prediction interval levels, in percent (default: none).

        Returns:
            `{"mean": ..., "lo-L": ..., "hi-L": ...}`: arrays of length `h`, for each level L.

        Raises:
            ValueError: The model is not fitted yet.
        """
        if not hasattr(self, "y_"):
            raise ValueError(f"{self.alias}: call fit(y) before predict(h)")
        out = self._combine([c.predict(h, level) for c in self.used_])
        zero = self._seasonal_zeros(h)
        if zero is not None:
            for key in out:
                if not key.startswith("hi-"):
                    out[key] = np.where(zero, 0.0, out[key])
        return out

    def _seasonal_zeros(self, h: int) -> np.ndarray | None:
        """Months of the year with no demand in each of the last two years stay at zero (e.g. products
        not sold in some months, intermittent demand concentrated in some seasons); None when there are none."""
        m, y = self.season_length, self.y_
        if m < 2 or y.size < 2 * m or not self.nonnegative_:
            return None
        last_two = y[-2 * m :].reshape(2, m)
        zero_pos = np.all(last_two == 0, axis=0)
        if not zero_pos.any() or zero_pos.all():
            return None
        return np.resize(zero_pos, h)

    def _combine(self, preds: list[dict]) -> dict:
        agg = np.median if self.combine == "median" else np.mean
        out = {key: agg(np.vstack([p[key] for p in preds]), axis=0) for key in preds[0]}
        for key, lower in list(out.items()):
            if key.startswith("lo-"):
                hi = "hi-" + key[3:]
                out[key] = np.minimum(lower, out["mean"])
                out[hi] = np.maximum(out[hi], out["mean"])
        return out
