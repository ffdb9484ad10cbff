"""Reader labels for column names: what a table header or a chart tooltip says instead of `wape_naive`.

One mapping, `LABELS`, used by `salesops.report.table` (headers, CSV downloads) and by the charts'
tooltips (`salesops.charts.explorable`). A label names its unit in brackets: units, hours, %, days,
money (the report's currency), points. A column without an entry is shown humanised
(`forecast_attainment` -> "Forecast attainment"); a name that is already a label ("Safety stock
value") is shown as it is.

Example:
    >>> label("wape_naive")
    'WAPE, naive (%)'
    >>> label("months_behind")
    'Months behind'
"""

from __future__ import annotations

import re

__all__ = ["LABELS", "label"]

LABELS: dict[str, str] = {
    # identifiers and time
    "unique_id": "SKU",
    "sku": "SKU",
    "ds": "Month",
    "month": "Month",
    "period": "Cycle",
    "family": "Family",
    "resource": "Resource",
    "rep": "Rep",
    "team": "Team",
    "name": "Name",
    "level": "Level",
    "window": "Window",
    "status": "Status",
    "series": "Series",
    "strategy": "Strategy",
    "scenario": "Scenario",
    "model": "Model",
    "lag": "Lag (months)",
    "made": "Plan made",
    # data collection
    "table": "Table",
    "origin": "Source",
    "rows": "Rows",
    "columns": "Columns",
    "modified": "Modified",
    "first": "First month",
    "last": "Last month",
    "months_behind": "Months behind",
    "severity": "Severity",
    "column": "Column",
    "row": "Row",
    "message": "Message",
    "value": "Value",
    "threshold": "Threshold",
    "count": "Count",
    "skus": "SKUs",
    "skus_below_target": "SKUs below target",
    "id": "ID",
    "selling": "SKUs selling",
    # units and money
    "y": "Units",
    "units": "Units",
    "actual": "Actual (units)",
    "planned": "Planned (units)",
    "demand": "Demand (units)",
    "supply": "Supply (units)",
    "production": "Production (units)",
    "inventory": "Inventory (units)",
    "backlog": "Backlog (units)",
    "on_hand": "On hand (units)",
    "safety_stock": "Safety stock (units)",
    "shortage": "Shortage (units)",
    "excess": "Excess (units)",
    "statistical": "Statistical (units)",
    "pipeline": "Pipeline (units)",
    "consensus": "Consensus (units)",
    "yhat": "Forecast (units)",
    "lo_80": "80% interval, low (units)",
    "hi_80": "80% interval, high (units)",
    "yhat_lo_80": "80% interval, low (units)",
    "yhat_hi_80": "80% interval, high (units)",
    "yhat_lo_95": "95% interval, low (units)",
    "yhat_hi_95": "95% interval, high (units)",
    "sigma": "Error sigma (units)",
    "required_hours": "Required (hours)",
    "available_hours": "Regular capacity (hours)",
    "overtime_hours": "Overtime capacity (hours)",
    "regular_hours": "Regular (hours)",
    "ceiling": "Regular + overtime (hours)",
    "utilisation": "Utilisation (%)",
    "weeks_of_supply": "Weeks of supply",
    "cost": "Cost (money)",
    "amount": "Amount (money)",
    "expected_amount": "Expected amount (money)",
    "avg_deal": "Average deal (money)",
    "quota": "Quota (money)",
    "won": "Won (money)",
    "forecast": "Forecast",
    "target_incentive": "Target incentive (money)",
    "payout": "Payout (money)",
    "velocity_per_month": "Pipeline velocity (money per month)",
    "value_m": "Value (millions)",
    # accuracy (fractions shown as %)
    "wape": "WAPE (%)",
    "wape_naive": "WAPE, naive (%)",
    "wape_statistical": "WAPE, statistical (%)",
    "wape_consensus": "WAPE, consensus (%)",
    "smape": "sMAPE (%)",
    "mape": "MAPE (%)",
    "mase": "MASE (vs seasonal naive)",
    "bias": "Bias (%)",
    "accuracy": "Accuracy, 1 - WAPE (%)",
    "coverage_80": "80% interval coverage (%)",
    "coverage_95": "95% interval coverage (%)",
    "tracking_signal": "Tracking signal",
    "value_add": "Value add (WAPE points)",
    "vs_baseline": "Vs baseline (WAPE points)",
    "statistical_vs_naive": "Statistical vs naive (WAPE points)",
    "consensus_vs_statistical": "Consensus vs statistical (WAPE points)",
    "consensus_vs_naive": "Consensus vs naive (WAPE points)",
    "change": "Change",
    "change_pct": "Change (%)",
    "net_change": "Net change (%)",
    "abs_change": "Moved, sum of |change| (%)",
    "fill_rate": "Fill rate (%)",
    "service_level": "Service level (%)",
    # sales
    "attainment": "Attainment (%)",
    "forecast_attainment": "Forecast attainment (%)",
    "won_share": "Won to date (% of quota)",
    "win_rate": "Win rate (%)",
    "cycle_days": "Sales cycle (days)",
    "coverage": "Pipeline coverage (x quota)",
    "activity_trend": "Activity trend (%)",
    "individual_rate": "Individual rate (x)",
    "team_attainment": "Team attainment (%)",
    "team_rate": "Team rate (x)",
    "stage": "Stage",
    "opportunities": "Opportunities",
    "reached": "Deals that reached the stage",
    "conversion_to_next": "Conversion to next stage (%)",
    "win_probability": "Win probability (%)",
    "age": "Age",
    "deals": "Deals",
    "stale": "Stale deals",
    "enps": "eNPS (points)",
    "responses": "Responses",
    "promoters": "Promoters",
    "passives": "Passives",
    "detractors": "Detractors",
    "headcount": "Headcount",
    "response_rate": "Response rate (%)",
    "outlier_note": "Why an outlier",
    "why": "Why",
    "group": "Group",
    "note": "Note",
}

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def label(name, labels: dict[str, str] | None = None) -> str:
    """The reader label of a column: from `labels`, else `LABELS`, else the name humanised.

    Args:
        name: The column name (a frame's column; not a string is shown as `str(name)`).
        labels: Labels that win over `LABELS` (one table's own, e.g. `{"amount": "Amount (EUR)"}`).

    Returns:
        The label; a name that is not a snake_case identifier comes back as it is.

    Example:
        >>> label("forecast_attainment")
        'Forecast attainment (%)'
        >>> label("Safety stock value")
        'Safety stock value'
    """
    text = str(name)
    if labels and text in labels:
        return labels[text]
    if text in LABELS:
        return LABELS[text]
    if _IDENTIFIER.match(text):
        return (text[0].upper() + text[1:]).replace("_", " ")
    return text
