"""Follow-up (notebook 06): were past plans right, were decisions carried out, are the KPIs moving.

Everything here compares what earlier cycles planned with what has happened since:

* **Plans.** For each earlier period the plan of record (frozen at approval, read through
  `salesops.plan_of_record`) is used; a period without one falls back to its proposed plan (the
  published `demand_planning/demand_plan`, read through `salesops.store.ReportsStore`).
  `plan_sources` says which was used.
* **Lags.** *lag k* is the forecast for month M made in the cycle for period M-(k-1). The cycle for
  period P forecasts from P on (its history ends at P-1), so lag 1 is the first forecast month of a
  cycle (made in P for P) and lag 3 is the third (made in P-2 for P). A forecast for month M can only be
  scored once M is in the history, i.e. in a cycle after M.
* **Errors.** `error = forecast - actual`: positive bias means the plan was too high.
  WAPE = sum|error| / sum(actual); MAPE = mean |error| / actual over SKU-months with actual > 0;
  bias = sum(error) / sum(actual); tracking signal = sum(error) / mean|error| over the family's
  monthly lag-1 errors of the last `p.alerts.tracking_window` months.
* **Units.** Metrics are fractions (0.25, not 25) in every product; the report's tables
  (`PERCENT_FORMATS`) and charts show them as percentages.
* **Naive.** The seasonal naive forecast of cycle P repeats the same month of the last season observed
  before P (history truncated at P); a series with no such month repeats its last value before P,
  and a series with no history forecasts 0.

Modules: `past_plans` (earlier cycles' plans), `accuracy` (scored forecasts, accuracy by lag, value
add, bias, trend), `execution` (plan adherence, service, inventory vs target), `decisions` (decision
log), `alerting` (alerts), `step` (`FollowUp`, `run`), `tables` (report tables, callout, tiles) and
`charts` (Altair, loaded on first use).

Example:
    >>> fu = so.followup.run(ctx)       # doctest: +SKIP
    >>> fu.alerts.columns.tolist()       # doctest: +SKIP
    ['severity', 'kind', 'subject', 'message', 'value', 'threshold']
    >>> ctx.save(fu)                     # doctest: +SKIP
"""

from ._frames import TOTAL
from .accuracy import (
    ACCURACY_COLUMNS,
    BIAS_COLUMNS,
    REPORTED_LAGS,
    SCORED_COLUMNS,
    TREND_COLUMNS,
    VALUE_ADD_COLUMNS,
    accuracy_by_lag,
    accuracy_trend,
    bias_by_family,
    scored_forecasts,
    seasonal_naive,
    value_add,
)
from .alerting import ALERT_COLUMNS, SEVERITY_ORDER, alerts
from .decisions import DECISION_COLUMNS, collect_decisions, decision_log
from .execution import (
    ADHERENCE_COLUMNS,
    INVENTORY_COLUMNS,
    SERVICE_COLUMNS,
    inventory_vs_target,
    plan_adherence,
    service_levels,
)
from .past_plans import PLAN_OF_RECORD, PROPOSED, SOURCE_COLUMNS, PastPlans, load_past_plans
from .stability import STABILITY_BY_CYCLE_COLUMNS, stability_by_cycle
from .step import FollowUp, run
from .tables import PERCENT_FORMATS, status_callout, summary_tiles, trend_table, value_add_table

__all__ = [
    "ACCURACY_COLUMNS",
    "ADHERENCE_COLUMNS",
    "ALERT_COLUMNS",
    "BIAS_COLUMNS",
    "DECISION_COLUMNS",
    "INVENTORY_COLUMNS",
    "PERCENT_FORMATS",
    "PLAN_OF_RECORD",
    "PROPOSED",
    "REPORTED_LAGS",
    "SCORED_COLUMNS",
    "SERVICE_COLUMNS",
    "SEVERITY_ORDER",
    "SOURCE_COLUMNS",
    "STABILITY_BY_CYCLE_COLUMNS",
    "TOTAL",
    "TREND_COLUMNS",
    "VALUE_ADD_COLUMNS",
    "FollowUp",
    "PastPlans",
    "accuracy_by_lag",
    "accuracy_trend",
    "alerts",
    "bias_by_family",
    "collect_decisions",
    "decision_log",
    "inventory_vs_target",
    "load_past_plans",
    "plan_adherence",
    "run",
    "scored_forecasts",
    "seasonal_naive",
    "service_levels",
    "stability_by_cycle",
    "status_callout",
    "summary_tiles",
    "trend_table",
    "value_add",
    "value_add_table",
]

_CHARTS = (
    "accuracy_chart",
    "adherence_chart",
    "bias_chart",
    "family_accuracy_chart",
    "stability_chart",
    "value_add_chart",
)


def __getattr__(name: str):
    # the charts load on first use, so the computation stays free of Altair
    if name == "charts" or name in _CHARTS:
        import importlib

        charts = importlib.import_module(".charts", __name__)
        return charts if name == "charts" else getattr(charts, name)
    raise AttributeError(f"module 'salesops.followup' has no attribute '{name}'")
