"""Executive review (step 5): the KPIs of the pack, the decisions, and the approval of the plan.

`run(ctx)` reads the products of demand planning, supply planning, pre-S&OP and sales performance,
computes the KPIs and the decision list, and freezes the approved scenario as the plan of record
(`salesops.plan_of_record`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .params import Decision, Params
from .plan_of_record import PlanStatus, freeze, plan_frame
from .report import Tile, money, tiles
from .steps import StepResult

KPI_COLUMNS = ["kpi", "label", "value", "target", "status", "display", "detail"]
DECISION_COLUMNS = ["id", "title", "owner", "due", "status", "decision", "options", "source"]
WEEKS_PER_MONTH = 52 / 12


# ---------------------------------------------------------------- KPIs
def _kpi(kpi, label, value, target, status, display, detail) -> dict:
    return {
        "kpi": kpi,
        "label": label,
        "value": value,
        "target": target,
        "status": status,
        "display": display,
        "detail": detail,
    }


def revenue_vs_budget(gaps: pd.DataFrame, months: int = 12, currency: str = "USD") -> dict:
    """Plan revenue against budget over the first `months` budgeted months of the horizon.

    Status: good from -1 % up, warn from -5 %, bad below.

    Args:
        gaps: Plan revenue and budget per month (`month, revenue, budget_revenue`).
        months: The number of budgeted months compared.
        currency: The currency named in the detail.

    Returns:
        The KPI: `kpi, label, value, target, status, display, detail`. (value the gap as a fraction of budget).

    Example:
        >>> g = pd.DataFrame({"month": pd.to_datetime(["2026-11-01"]), "revenue": [95.0], "budget_revenue": [100.0]})
        >>> float(revenue_vs_budget(g)["value"])
        -0.05
    """
    budgeted = gaps.dropna(subset=["budget_revenue"])
    window = sorted(budgeted["month"].unique())[:months]
    if not window:
        plan = gaps["revenue"].sum()
        return _kpi(
            "revenue_vs_budget",
            "Revenue vs budget",
            np.nan,
            0.0,
            "info",
            money(plan),
            f"{currency}, no budget for the horizon",
        )
    rows = budgeted[budgeted["month"].isin(window)]
    plan, target = rows["revenue"].sum(), rows["budget_revenue"].sum()
    ratio = round(plan / target - 1, 12) if target else np.nan
    status = "good" if ratio >= -0.01 else "warn" if ratio >= -0.05 else "bad"
    return _kpi(
        "revenue_vs_budget",
        "Revenue vs budget",
        ratio,
        0.0,
        status,
        f"{ratio:+.1%}",
        f"plan {money(plan)} vs {money(target)} {currency}, next {len(window)} months",
    )


def forecast_accuracy(error_stats: pd.DataFrame | None, demand_plan: pd.DataFrame) -> dict:
    """1 - WAPE of the backtest, all SKUs: the SKUs' WAPEs weighted by their planned volume.

    Status: good from 80 %, warn from 65 %, bad below.

    Args:
        error_stats: Backtest errors per SKU (`unique_id, wape`, optionally `bias`), or None.
        demand_plan: The demand plan (`unique_id, consensus`), for the weights.

    Returns:
        The KPI: `kpi, label, value, target, status, display, detail`. (value a fraction).

    Example:
        >>> stats = pd.DataFrame({"unique_id": ["A", "B"], "wape": [0.1, 0.4]})
        >>> plan = pd.DataFrame({"unique_id": ["A", "B"], "consensus": [300.0, 100.0]})
        >>> round(forecast_accuracy(stats, plan)["value"], 3)   # 1 - (0.1*300 + 0.4*100)/400
        0.825
    """
    if error_stats is None or "wape" not in error_stats.columns or error_stats["wape"].notna().sum() == 0:
        return _kpi("forecast_accuracy", "Forecast accuracy", np.nan, 0.8, "info", "–", "no backtest")
    volume = demand_plan.groupby("unique_id")["consensus"].sum()
    stats = error_stats.dropna(subset=["wape"]).assign(
        weight=lambda s: s["unique_id"].map(volume).fillna(0.0)
    )
    weight = stats["weight"] if stats["weight"].sum() > 0 else pd.Series(1.0, index=stats.index)
    wape = float((stats["wape"] * weight).sum() / weight.sum())
    accuracy = 1 - wape
    detail = f"1 - WAPE, backtest of {len(stats)} SKUs"
    if "bias" in stats.columns and stats["bias"].notna().any():
        bias = float((stats["bias"].fillna(0) * weight).sum() / weight.sum())
        detail += f"; bias {bias:+.0%}" if abs(bias) < 5 else ""
    status = "good" if accuracy >= 0.8 else "warn" if accuracy >= 0.65 else "bad"
    return _kpi("forecast_accuracy", "Forecast accuracy", accuracy, 0.8, status, f"{accuracy:.0%}", detail)


def service_level(fill_rate: float, target: float) -> dict:
    """Projected fill rate of the plan against the service target (warn within 3 points below).

    Args:
        fill_rate: The projected fill rate, a fraction.
        target: The service target, a fraction.

    Returns:
        The KPI: `kpi, label, value, target, status, display, detail`.

    Example:
        >>> service_level(0.93, 0.95)["status"]
        'warn'
    """
    status = "good" if fill_rate >= target - 1e-9 else "warn" if fill_rate >= target - 0.03 else "bad"
    return _kpi(
        "service_level",
        "Service level",
        fill_rate,
        target,
        status,
        f"{fill_rate:.1%}",
        f"projected fill rate, target {target:.0%}",
    )


def weeks_of_supply(projection: pd.DataFrame, month: pd.Timestamp | None = None) -> dict:
    """Weeks of supply of all stock at the end of `month` (default the first plan month).

    Total on hand / (mean demand of the next three months x 12 / 52). Bad below the safety stock's
    cover, warn when more than four months (17 weeks) of cover, else good.

    Args:
        projection: The inventory projection (`month, demand, on_hand, safety_stock`).
        month: The month whose closing stock is measured (default: the first).

    Returns:
        The KPI: `kpi, label, value, target, status, display, detail`. (value in weeks).

    Example:
        >>> proj = pd.DataFrame({"month": pd.to_datetime(["2026-11-01", "2026-12-01"]), "demand": [0.0, 130.0],
        ...                      "on_hand": [130.0, 0.0], "safety_stock": [0.0, 0.0]})
        >>> round(float(weeks_of_supply(proj)["value"]), 2)   # 130 on hand, 130 a month coming = 4.33 weeks
        4.33
    """
    proj = projection.assign(month=pd.to_datetime(projection["month"]))
    months = sorted(proj["month"].unique())
    month = months[0] if month is None else pd.Timestamp(month)
    ahead = [m for m in months if m > month][:3]
    demand = proj[proj["month"].isin(ahead)].groupby("month")["demand"].sum().mean() if ahead else np.nan
    now = proj[proj["month"] == month]
    weekly = demand / WEEKS_PER_MONTH
    if not weekly or np.isnan(weekly):
        return _kpi("weeks_of_supply", "Weeks of supply", np.nan, np.nan, "info", "–", "no demand ahead")
    wos = now["on_hand"].sum() / weekly
    cover = now["safety_stock"].sum() / weekly if "safety_stock" in now else 0.0
    status = "bad" if wos < cover else "warn" if wos > 4 * WEEKS_PER_MONTH else "good"
    return _kpi(
        "weeks_of_supply",
        "Weeks of supply",
        wos,
        cover,
        status,
        f"{wos:.1f} wk",
        f"end of {month:%Y-%m}; safety stock covers {cover:.1f} wk",
    )


def capacity_utilisation(capacity_load: pd.DataFrame, months: int = 6) -> dict:
    """Peak resource utilisation (required / regular hours) over the next `months` months.

    Status: good up to 90 %, warn while overtime covers it, bad beyond regular + overtime.

    Args:
        capacity_load: Required, regular and overtime hours per resource and month.
        months: The number of months looked at, from the first.

    Returns:
        The KPI: `kpi, label, value, target, status, display, detail`. (value a fraction).

    Example:
        >>> load = pd.DataFrame({"resource": ["A", "A"], "month": pd.to_datetime(["2026-11-01", "2026-12-01"]),
        ...                      "required_hours": [90.0, 105.0], "available_hours": [100.0, 100.0],
        ...                      "overtime_hours": [20.0, 20.0]})
        >>> capacity_utilisation(load)["display"], capacity_utilisation(load)["status"]
        ('105%', 'warn')
    """
    load = capacity_load.assign(month=pd.to_datetime(capacity_load["month"]))
    window = sorted(load["month"].unique())[:months]
    load = load[load["month"].isin(window) & (load["available_hours"] > 0)]
    if load.empty:
        return _kpi("capacity_utilisation", "Capacity utilisation", np.nan, 0.9, "info", "–", "no capacity")
    util = load["required_hours"] / load["available_hours"]
    peak = load.loc[util.idxmax()]
    peak_util = float(util.max())
    average = load["required_hours"].sum() / load["available_hours"].sum()
    over = (load["required_hours"] > load["available_hours"] + load["overtime_hours"].fillna(0)).any()
    status = "bad" if over else "warn" if peak_util > 0.9 else "good"
    return _kpi(
        "capacity_utilisation",
        "Capacity utilisation",
        peak_util,
        0.9,
        status,
        f"{peak_util:.0%}",
        f"peak: {peak['resource']} {peak['month']:%Y-%m}; average {average:.0%}, next {len(window)} mo",
    )


def enps(enps_frame: pd.DataFrame | None) -> dict:
    """Company eNPS (team `All`) of the latest month with a score. Good above 10, warn from 0.

    Args:
        enps_frame: eNPS per team and month (`salesops.sales.enps.enps`), or None.

    Returns:
        The KPI: `kpi, label, value, target, status, display, detail`.
    """
    if enps_frame is None or enps_frame.empty:
        return _kpi("enps", "Employee NPS", np.nan, 10.0, "info", "–", "no survey")
    company = enps_frame[(enps_frame["team"] == "All") & enps_frame["enps"].notna()]
    if "suppressed" in company.columns:
        company = company[~company["suppressed"].fillna(False).astype(bool)]
    if company.empty:
        return _kpi("enps", "Employee NPS", np.nan, 10.0, "info", "–", "no survey with enough answers")
    last = company.sort_values("month").iloc[-1]
    score = float(last["enps"])
    detail = f"{pd.Timestamp(last['month']):%Y-%m}, {int(last['responses'])} responses"
    if len(company) > 1:
        detail += f", {score - float(company.sort_values('month').iloc[-2]['enps']):+.0f} on prior"
    status = "good" if score > 10 else "warn" if score >= 0 else "bad"
    return _kpi("enps", "Employee NPS", score, 10.0, status, f"{score:+.0f}", detail)


def kpis(
    gaps: pd.DataFrame,
    scenarios: pd.DataFrame,
    error_stats: pd.DataFrame | None,
    demand_plan: pd.DataFrame,
    inventory_projection: pd.DataFrame,
    capacity_load: pd.DataFrame,
    enps_frame: pd.DataFrame | None,
    p: Params,
    scenario: str | None = None,
    scenario_plans: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The six KPIs of the executive pack for the plan being approved, the baseline beside it.

    Revenue vs budget, service level, weeks of supply and capacity describe `scenario` (the approved
    or recommended one) from its row of the scenario comparison (and its family plan in
    `scenario_plans`); each tile's detail gives the baseline's figure. Without `scenario` (or when it
    is the baseline), they describe the baseline as before.

    Args:
        gaps: The pre-S&OP gaps of the baseline (budget per family and month).
        scenarios: The scenario comparison, baseline first.
        error_stats: The forecast error statistics, or None.
        demand_plan: The demand plan.
        inventory_projection: The baseline's SKU projection.
        capacity_load: The baseline's capacity load.
        enps_frame: eNPS by team and month, or None.
        p: The run's parameters.
        scenario: The scenario approved or recommended.
        scenario_plans: Every scenario's family plan (`revenue` per family and month).

    Returns:
        The KPIs (`KPI_COLUMNS` plus `scenario` and `baseline`, the baseline's value).

    Example:
        >>> kpis(gaps, scenarios, error_stats, demand_plan, projection, load, enps_frame, p)["kpi"].tolist()  # doctest: +SKIP
        ['revenue_vs_budget', 'forecast_accuracy', 'service_level', 'weeks_of_supply', 'capacity_utilisation', 'enps']
    """
    base = scenarios.iloc[0]
    ran = scenarios[scenarios["ran"].astype(bool)] if "ran" in scenarios.columns else scenarios
    chosen = ran[ran["scenario"] == scenario]
    baseline_rows = [
        revenue_vs_budget(gaps, 12, p.currency),
        forecast_accuracy(error_stats, demand_plan),
        service_level(float(base["fill_rate"]), p.supply.service_level),
        weeks_of_supply(inventory_projection),
        capacity_utilisation(capacity_load),
        enps(enps_frame),
    ]
    if scenario is None or chosen.empty or chosen.index[0] == base.name:
        out = pd.DataFrame(baseline_rows, columns=KPI_COLUMNS)
        out["scenario"] = str(base["scenario"])
        out["baseline"] = out["value"]
        return out
    row = chosen.iloc[0]
    plan_gaps = gaps
    if scenario_plans is not None and len(scenario_plans):
        mine = scenario_plans[scenario_plans["scenario"] == scenario][["family", "month", "revenue"]]
        plan_gaps = gaps.drop(columns="revenue").merge(mine, on=["family", "month"], how="outer")
    rows = [
        revenue_vs_budget(plan_gaps, 12, p.currency),
        baseline_rows[1],
        _scenario_service(row, p.supply.service_level),
        _scenario_cover(row, baseline_rows[3]),
        _scenario_capacity(row),
        baseline_rows[5],
    ]
    out = pd.DataFrame(rows, columns=KPI_COLUMNS)
    out["scenario"] = scenario
    out["baseline"] = [r["value"] for r in baseline_rows]
    for i in (0, 2, 3, 4):
        b = baseline_rows[i]
        out.loc[i, "detail"] = f"{out.loc[i, 'detail']}; baseline {b['display']}"
    return out


def _scenario_service(row: pd.Series, target: float) -> dict:
    """The service tile of a scenario: its fill rate, units late and lost, the high-demand fill rate and
    the lowest family fill rate (the target applies to every family: `balance.RULE`)."""
    kpi = service_level(float(row["fill_rate"]), target)
    if not bool(row.get("meets_service", True)):
        kpi["status"] = "bad"
    late, lost, high = row.get("late_units", np.nan), row.get("lost_units", np.nan), row.get("fill_rate_high")
    kpi["detail"] = (
        f"fill rate vs consensus, target {target:.0%}"
        + (f"; {late:,.0f} units late, {lost:,.0f} lost" if pd.notna(late) and late > 0.5 else "")
        + (f"; {high:.1%} if demand hits the 80% upper bound" if pd.notna(high) else "")
    )
    low, family = row.get("lowest_family_fill_rate", np.nan), row.get("lowest_family")
    if pd.notna(low) and family:
        kpi["detail"] += f"; lowest family {family} {low:.1%}"
    return kpi


def _scenario_cover(row: pd.Series, baseline: dict) -> dict:
    """Weeks of supply of a scenario at the end of the first month."""
    wos, cover = row.get("weeks_of_supply_now", np.nan), row.get("safety_stock_weeks", np.nan)
    if pd.isna(wos):
        return baseline
    status = "bad" if wos < cover else "warn" if wos > 4 * WEEKS_PER_MONTH else "good"
    return _kpi(
        "weeks_of_supply",
        "Weeks of supply",
        float(wos),
        float(cover),
        status,
        f"{wos:.1f} wk",
        f"end of the first month; safety stock covers {cover:.1f} wk",
    )


def _scenario_capacity(row: pd.Series) -> dict:
    """Peak utilisation of a scenario (demand hours / regular hours) and the hours beyond overtime."""
    peak = float(row.get("peak_utilisation", np.nan))
    over = float(row.get("overload_hours", 0.0) or 0.0)
    status = "bad" if over > 0.5 else "warn" if peak > 0.9 else "good"
    where = (
        f"peak: {row['peak_resource']} {pd.Timestamp(row['peak_month']):%Y-%m}"
        if pd.notna(row.get("peak_month"))
        else "peak"
    )
    detail = f"{where}; demand needs {over:,.0f} h beyond regular + overtime" if over > 0.5 else where
    return _kpi("capacity_utilisation", "Capacity utilisation", peak, 0.9, status, f"{peak:.0%}", detail)


def kpi_tiles(kpi_frame: pd.DataFrame):
    """KPI tiles for the report (`salesops.report.tiles`).

    Args:
        kpi_frame: One KPI per row (`label, display, detail, status`).

    Returns:
        The `Tiles` the notebook displays.
    """
    return tiles([Tile(r.label, r.display, r.detail, r.status) for r in kpi_frame.itertuples()])


# ---------------------------------------------------------------- decisions
APPROVAL_ID = "plan-approval"


def decisions(
    recommendations: pd.DataFrame,
    taken: Sequence[Decision],
    period_start: pd.Timestamp,
    scenario: str,
    approved_by: str | None = None,
    approved_on: dt.date | None = None,
    due_days: int = 14,
) -> pd.DataFrame:
    """Decisions of the meeting: the plan approval, those the pre-S&OP proposed and those in params.

    A decision entered in params (`decisions:`) with the id of a proposal replaces its status and
    adds what was decided; decisions in params with other ids are listed too (`source = params`).

    Args:
        recommendations: The pre-S&OP's proposed decisions (`id, title, owner, due, options`).
        taken: The decisions entered in params (`decisions:`).
        period_start: The first day of the period (the approval's due date is counted from it).
        scenario: The scenario proposed for approval.
        approved_by: Who approved the plan, if anyone.
        approved_on: When the plan was approved.
        due_days: Days after `period_start` the plan approval is due.

    Returns:
        One row per decision (`DECISION_COLUMNS`): the plan approval first.

    Example:
        >>> recs = pd.DataFrame({"id": ["overload-line-a"], "title": ["Close the gap"], "owner": ["Ops"],
        ...                      "due": [pd.Timestamp("2026-11-15")], "options": ["overtime; outsource"]})
        >>> taken = [Decision(id="overload-line-a", title="Close the gap", owner="Ops", due="2026-11-15",
        ...                   status="done", decision="overtime approved")]
        >>> decisions(recs, taken, pd.Timestamp("2026-11-01"), "baseline").set_index("id").loc[
        ...     "overload-line-a", "status"]
        'done'
    """
    by_id = {d.id: d for d in taken}
    approval_due = (period_start + pd.Timedelta(days=due_days)).date()
    rows = [
        {
            "id": APPROVAL_ID,
            "title": f"Approve the plan of record (scenario: {scenario})",
            "owner": approved_by or "Executive team",
            "due": approval_due,
            "status": "done" if approved_by else "open",
            "decision": f"approved by {approved_by} on {approved_on}" if approved_by else "",
            "options": "approve; approve another scenario; send back to pre-S&OP",
            "source": "plan",
        }
    ]
    for rec in recommendations.itertuples():
        row = {
            "id": rec.id,
            "title": rec.title,
            "owner": rec.owner,
            "due": pd.Timestamp(rec.due).date(),
            "status": "open",
            "decision": "",
            "options": rec.options,
            "source": "pre-S&OP",
        }
        if rec.id in by_id:
            d = by_id[rec.id]
            row.update(owner=d.owner, due=d.due, status=d.status, decision=d.decision)
        rows.append(row)
    proposed = {r["id"] for r in rows}
    for d in taken:
        if d.id not in proposed:
            rows.append(
                {
                    "id": d.id,
                    "title": d.title,
                    "owner": d.owner,
                    "due": d.due,
                    "status": d.status,
                    "decision": d.decision,
                    "options": "",
                    "source": "params",
                }
            )
    out = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    out["due"] = pd.to_datetime(out["due"])
    return out


def decisions_table(decision_frame: pd.DataFrame):
    """The decisions as a report table: what, who and by when, and what was decided (or the options).

    Args:
        decision_frame: The decisions (`decisions`).

    Returns:
        The `Table` the notebook displays.
    """
    from .report import table

    d = decision_frame
    decided = d["decision"].astype(str).str.len() > 0
    outcome = np.where(
        decided,
        d["status"].astype(str) + ": " + d["decision"].astype(str),
        d["status"].astype(str) + "; options: " + d["options"].astype(str),
    )
    frame = pd.DataFrame(
        {
            "Decision": d["title"],
            "Owner, due": d["owner"] + ", " + d["due"].dt.strftime("%d %b"),
            "Status / decision": outcome,
        }
    )
    return table(frame)


# ---------------------------------------------------------------- the executive review
@dataclass
class ExecutiveReview(StepResult):
    """What the executive pack shows and step 5 writes; built by `run`.

    Attributes:
        kpis: The KPI tiles' figures (`KPI_COLUMNS`).
        scenarios: The pre-S&OP scenario comparison.
        gaps: The pre-S&OP demand, supply and budget gaps.
        decisions: The meeting's decisions (`DECISION_COLUMNS`).
        plan_of_record: The approved (or proposed) plan with its hash.
        status: Where the plan of record stands after this run.
        scenario: The scenario approved or recommended.
        reasons: Why that scenario, as sentences.
        currency: The currency of money figures.
    """

    kpis: pd.DataFrame
    scenarios: pd.DataFrame
    gaps: pd.DataFrame
    decisions: pd.DataFrame
    plan_of_record: pd.DataFrame
    status: PlanStatus
    scenario: str
    reasons: list[str]
    currency: str = "USD"

    @property
    def plan_status(self) -> pd.DataFrame:
        """The one-row `plan_status` product (copied into run.json by the runner)."""
        return self.status.frame()

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """The step's products: `kpis, decisions, plan_of_record, plan_status`."""
        return {
            "kpis": self.kpis,
            "decisions": self.decisions,
            "plan_of_record": self.plan_of_record,
            "plan_status": self.plan_status,
        }

    def summary(self) -> str:
        """The pack's opening paragraph: KPIs off target and the recommendation.

        Returns:
            The paragraph: how many KPIs need attention, the plan of record or the scenario recommended,
            and the decisions open and taken.
        """
        off = self.kpis[self.kpis["status"].isin(["warn", "bad"])]
        text = (
            f"{len(off)} of {len(self.kpis)} KPIs of the current plan need attention"
            + (f" ({', '.join(off['label'])})" if len(off) else "")
            + ". "
        )
        open_ = self.decisions[self.decisions["status"] == "open"]
        if self.status.status == "approved" and self.status.hash == self.status.current_hash:
            text += (
                f"Plan of record: {self.scenario}, approved by {self.status.approved_by} on "
                f"{self.status.approved_on}. "
            )
        else:
            text += f"Scenario recommended for approval: {self.scenario}. "
        text += f"{len(open_)} decision(s) open, {int((self.decisions['status'] == 'done').sum())} taken."
        return text


def run(ctx) -> ExecutiveReview:
    """Step 5: KPIs, decisions and the plan of record (frozen when approved).

    Reads the products of demand planning, supply planning, pre-S&OP and sales performance
    (error statistics and eNPS are optional: their tiles say when they are missing).

    Args:
        ctx: The executive review's step context.

    Returns:
        The review; `ctx.save(review)` writes its products.

    Raises:
        PlanError: The approved plan of record would change without `--reapprove`.

    Example:
        >>> review = run(so.steps.context("executive_review", p))  # doctest: +SKIP
        >>> review.status.status                                   # doctest: +SKIP
        'proposed'
    """
    from .balance import RULE, recommend

    p = ctx.p
    scenarios = ctx.read("pre_sop", "scenarios")
    gaps = ctx.read("pre_sop", "gaps")
    recs = ctx.read("pre_sop", "recommendations")
    demand_plan = ctx.read("demand_planning", "demand_plan")
    error_stats = ctx.read("demand_planning", "error_stats", default=None)
    enps_frame = ctx.read("sales_performance", "enps", default=None)
    projection = ctx.read("supply_planning", "inventory_projection")
    load = ctx.read("supply_planning", "capacity_load")
    recommended = recommend(scenarios, p.supply.service_level)
    scenario = p.executive.scenario or recommended.scenario
    reasons = list(recommended.reasons)
    if p.executive.scenario and p.executive.scenario != recommended.scenario:
        reasons.append(f"The executive team chose {p.executive.scenario} instead (executive.scenario).")
    reasons.append(f"Rule: {RULE}.")
    scenario_plans = ctx.read("pre_sop", "scenario_plans")
    kpi_frame = kpis(
        gaps, scenarios, error_stats, demand_plan, projection, load, enps_frame, p, scenario, scenario_plans
    )
    plan = plan_frame(ctx.read("pre_sop", "scenario_demand"), scenario_plans, scenario, demand_plan)
    status = freeze(plan, p, scenario, p.decisions)
    decision_frame = decisions(
        recs,
        p.decisions,
        p.period_start,
        scenario,
        status.approved_by if status.status == "approved" else None,
        status.approved_on,
        p.executive.decision_due_days,
    )
    return ExecutiveReview(
        kpi_frame,
        scenarios,
        gaps,
        decision_frame,
        plan.assign(hash=status.current_hash),
        status,
        scenario,
        reasons,
        p.currency,
    )
