"""Alerts of the follow-up: what needs attention this cycle, most severe first (copied into run.json)."""

from __future__ import annotations

import pandas as pd

from ..params import AlertParams
from ._frames import empty

__all__ = [
    "ALERT_COLUMNS",
    "SEVERITY_ORDER",
    "alerts",
]

ALERT_COLUMNS = ["severity", "kind", "subject", "message", "value", "threshold"]
SEVERITY_ORDER = {"error": 0, "warning": 1}


def _tracking_signal_alerts(bias: pd.DataFrame, limits: AlertParams) -> list[tuple]:
    found = []
    for row in bias.itertuples(index=False):
        if pd.notna(row.tracking_signal) and abs(row.tracking_signal) > limits.tracking_signal_limit:
            direction = "over" if row.tracking_signal > 0 else "under"
            found.append(
                (
                    "warning",
                    "tracking_signal",
                    row.family,
                    (
                        f"{row.family}: tracking signal {row.tracking_signal:+.1f} over {row.months} "
                        f"months is beyond ±{limits.tracking_signal_limit:g}; the plan is consistently "
                        f"{direction}-forecasting (bias {row.bias:+.0%})"
                    ),
                    float(row.tracking_signal),
                    float(limits.tracking_signal_limit),
                )
            )
    return found


def _accuracy_drop_alerts(accuracy: pd.DataFrame, limits: AlertParams) -> list[tuple]:
    found = []
    threshold = limits.accuracy_drop_pct / 100  # the parameter is in points; the alert holds fractions
    lag1 = accuracy[accuracy["lag"] == 1] if len(accuracy) else accuracy
    for family, g in lag1.groupby("family", sort=True) if len(lag1) else []:
        g = g.sort_values("month")
        if len(g) < 2 or pd.isna(g["wape"].iloc[-1]):
            continue
        baseline = g["wape"].iloc[-1 - limits.baseline_cycles : -1].mean()
        drop = g["wape"].iloc[-1] - baseline
        if pd.notna(drop) and drop > threshold:
            month = pd.Timestamp(g["month"].iloc[-1]).strftime("%Y-%m")
            found.append(
                (
                    "warning",
                    "accuracy_drop",
                    family,
                    (
                        f"{family}: lag-1 WAPE for {month} is {g['wape'].iloc[-1]:.0%}, {drop * 100:.1f} "
                        f"points worse than the {min(len(g) - 1, limits.baseline_cycles)} previous "
                        f"month(s)' {baseline:.0%}"
                    ),
                    float(drop),
                    float(threshold),
                )
            )
    return found


def _service_alerts(service: pd.DataFrame, limits: AlertParams) -> list[tuple]:
    found = []
    if len(service):
        latest = service[service["month"] == service["month"].max()]
        for row in latest.itertuples(index=False):
            if pd.notna(row.fill_rate) and row.fill_rate < limits.service_target:
                found.append(
                    (
                        "error",
                        "service",
                        row.family,
                        (
                            f"{row.family}: estimated fill rate {row.fill_rate:.1%} in "
                            f"{pd.Timestamp(row.month):%Y-%m} is below the "
                            f"{limits.service_target:.0%} target"
                        ),
                        float(row.fill_rate),
                        float(limits.service_target),
                    )
                )
    return found


def _decision_alerts(decisions: pd.DataFrame, limits: AlertParams) -> list[tuple]:
    found = []
    if limits.overdue_decisions and len(decisions):
        for row in decisions[decisions["overdue"].astype(bool)].itertuples(index=False):
            found.append(
                (
                    "warning",
                    "overdue_decision",
                    row.id,
                    (
                        f"decision {row.id} '{row.title}' ({row.owner}) was due {row.due:%Y-%m-%d} and is "
                        f"still open ({row.days_overdue} days overdue)"
                    ),
                    float(row.days_overdue),
                    0.0,
                )
            )
    return found


def alerts(
    accuracy: pd.DataFrame,
    bias: pd.DataFrame,
    service: pd.DataFrame,
    decisions: pd.DataFrame,
    limits: AlertParams,
) -> pd.DataFrame:
    """Alerts for the report and `run.json`, most severe first.

    * `tracking_signal` (warning): |tracking signal| of a family > `tracking_signal_limit`; `value`
      and `threshold` are tracking signals.
    * `accuracy_drop` (warning): the latest month's lag-1 WAPE of a family is more than
      `accuracy_drop_pct` points above its mean over the previous `baseline_cycles` months
      (accuracy = 1 - WAPE dropped by more than that); `value` and `threshold` are fractions
      (0.15 for 15 points).
    * `service` (error): the latest month's fill rate of a family < `service_target`; `value` and
      `threshold` are fractions.
    * `overdue_decision` (warning): an open decision due before the period (when
      `overdue_decisions`); `value` is the days overdue.

    Args:
        accuracy: The accuracy by lag (`accuracy_by_lag`).
        bias: Bias and tracking signal per family (`bias_by_family`).
        service: Estimated service per month and family (`service_levels`).
        decisions: The decision log (`decision_log`).
        limits: The alert thresholds (`p.alerts`).

    Returns:
        `ALERT_COLUMNS`, errors first, then by kind and subject; empty when nothing fired.

    Example:
        >>> alerts(acc, bias, service, log, AlertParams(tracking_signal_limit=4))   # doctest: +SKIP
    """
    found = (
        _tracking_signal_alerts(bias, limits)
        + _accuracy_drop_alerts(accuracy, limits)
        + _service_alerts(service, limits)
        + _decision_alerts(decisions, limits)
    )
    if not found:
        return empty(ALERT_COLUMNS).astype({"value": "float64", "threshold": "float64"})
    frame = pd.DataFrame(found, columns=ALERT_COLUMNS)
    return frame.sort_values(
        ["severity", "kind", "subject"], key=lambda s: s.map(SEVERITY_ORDER) if s.name == "severity" else s
    ).reset_index(drop=True)
