"""Report views of a `SupplyPlan`: headline tiles and tables with planner-friendly headers.

The tidy products keep the fixed column names; these frames are for reading.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import Callout, Table, Tile, callout, table
from .planning import STRATEGIES, SupplyPlan, excess, overload_drivers, risk_by_sku, shortages

STRATEGY_NAMES = {"chase": "Chase", "level": "Level", "optimal": "Cost-optimal"}


def _money(value: float, currency: str) -> str:
    value = float(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{currency} {value / limit:,.1f}{suffix}"
    return f"{currency} {value:,.0f}"


def headline(sp: SupplyPlan, currency: str = "USD", service_target: float = 0.95) -> list[Tile]:
    """KPI tiles: fill rate, overloaded resource-months, shortage value, excess value, cost vs chase.

    Args:
        sp: The supply plan (`SupplyPlan`).
        currency: The currency of the values shown.
        service_target: The fill rate the first tile is judged against, a fraction.

    Returns:
        The `Tile`s, for `salesops.report.tiles`.

    Example:
        >>> headline(sp)[0].label   # doctest: +SKIP
        'Projected fill rate'
    """
    summary = sp.strategy_summary.set_index("strategy")
    proj = sp.inventory_projection
    rate = float(summary.loc[sp.strategy, "fill_rate"])
    load = sp.capacity_load
    over = load[load["status"] != "ok"]
    beyond = load[load["status"] == "over capacity"]
    short_value = float(proj.groupby("unique_id")["shortage_value"].max().sum()) if len(proj) else 0.0
    short_skus = int((proj.groupby("unique_id")["shortage"].max() > 1e-6).sum()) if len(proj) else 0
    excess_value = float(excess(sp)["excess_value"].sum())
    saving = float(summary.loc["chase", "total_cost"] - summary.loc["optimal", "total_cost"])
    worst = _worst_family(sp)
    low = float(worst.loc[sp.strategy, "fill_rate"]) if sp.strategy in worst.index else rate
    family = (
        f"; lowest family {worst.loc[sp.strategy, 'family']} {low:.1%}" if sp.strategy in worst.index else ""
    )
    judged = min(rate, low)  # the target applies to the total and to every family
    return [
        Tile(
            "Projected fill rate",
            f"{rate:.1%}",
            f"{STRATEGY_NAMES[sp.strategy]} plan; target {service_target:.0%}{family}",
            "good" if judged >= service_target else "warn" if judged >= service_target - 0.05 else "bad",
        ),
        Tile(
            "Resource-months over regular hours",
            f"{len(over)} of {len(load)}",
            f"{len(beyond)} beyond overtime too",
            "good" if over.empty else "bad" if len(beyond) else "warn",
        ),
        Tile(
            "Peak shortage value",
            _money(short_value, currency),
            f"{short_skus} SKU(s) short at some point",
            "good" if short_skus == 0 else "bad",
        ),
        Tile(
            "Excess stock value",
            _money(excess_value, currency),
            "at each SKU's peak month",
            "good" if excess_value == 0 else "warn",
        ),
        Tile(
            "Optimal plan saves vs chase",
            _money(saving, currency),
            "total cost over the horizon",
            "good" if saving > 0 else "info",
        ),
    ]


def strategy_table(sp: SupplyPlan) -> pd.DataFrame:
    """The three strategies side by side: the spend, the stock left at the end beside it (not netted),
    the safety-stock penalty, fill rates against the consensus and the high-demand case, the lowest
    family fill rate (and which family), overtime, units late and lost.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        One row per strategy, the one in use marked.
    """
    s = sp.strategy_summary.set_index("strategy").reindex(list(STRATEGIES))
    worst = _worst_family(sp).reindex(list(STRATEGIES))
    return pd.DataFrame(
        {
            "Strategy": [STRATEGY_NAMES[k] + (" (in use)" if k == sp.strategy else "") for k in s.index],
            "Production": s["production_cost"].to_numpy(),
            "Overtime": s["overtime_cost"].to_numpy(),
            "Holding": s["holding_cost"].to_numpy(),
            "Backlog": s["backlog_cost"].to_numpy(),
            "Lost sales": s["lost_sales_cost"].to_numpy(),
            "Total cost": s["total_cost"].to_numpy(),
            "Closing stock value": s["closing_stock_value"].to_numpy(),
            "Below-safety-stock penalty": s["safety_stock_penalty"].to_numpy(),
            "Fill rate": s["fill_rate"].to_numpy(),
            "Fill rate, high demand": s["fill_rate_high"].to_numpy(),
            "Lowest family fill rate": worst["fill_rate"].to_numpy(),
            "Lowest family": worst["family"].to_numpy(),
            "Overtime hours": s["overtime_hours"].to_numpy(),
            "Units late": s["late_units"].to_numpy(),
            "Units lost": s["lost_units"].to_numpy(),
        }
    )


def _worst_family(sp: SupplyPlan) -> pd.DataFrame:
    """Per strategy, the family with the lowest fill rate (index strategy; `family, fill_rate`)."""
    f = sp.family_service
    if f is None or f.empty:
        return pd.DataFrame(columns=["family", "fill_rate"])
    f = f[f["demand"] > 0].sort_values(["strategy", "fill_rate", "family"])
    return f.groupby("strategy")[["family", "fill_rate"]].first()


def family_service_table(sp: SupplyPlan, service_target: float = 0.95) -> pd.DataFrame:
    """The plan in use per family: demand, units late and lost, fill rate against the consensus and
    the high-demand case, and whether the family meets the service target. The target applies to
    every family: a plan that serves the total but starves one family does not meet it.

    Args:
        sp: The supply plan (`SupplyPlan`).
        service_target: The fill rate each family must reach, a fraction.

    Returns:
        One row per family, lowest fill rate first.
    """
    f = sp.family_service
    f = f[f["strategy"] == sp.strategy].sort_values(["fill_rate", "family"])
    return pd.DataFrame(
        {
            "Family": f["family"].to_numpy(),
            "Demand": f["demand"].to_numpy(),
            "Units late": f["late_units"].to_numpy(),
            "Units lost": f["lost_units"].to_numpy(),
            "Fill rate": f["fill_rate"].to_numpy(),
            "Fill rate, high demand": f["fill_rate_high"].to_numpy(),
            "Meets target": np.where(f["fill_rate"].to_numpy() >= service_target - 1e-9, "yes", "no"),
        }
    )


def safety_stock_basis(sp: SupplyPlan, service_level: float = 0.95) -> Callout:
    """One sentence on how safety stock was set: the cycle service level, the backtest evidence (origins
    and lead-time errors per SKU), the fallbacks and the SKUs that get none.

    Args:
        sp: The supply plan.
        service_level: The cycle service level safety stock protects (`supply.service_level`).

    Returns:
        A callout.
    """
    k = sp.sku_parameters
    from_backtest = k["sigma_source"] == "backtest over the lead time"
    text = (
        f"Safety stock protects a {service_level:.0%} cycle service level (the chance of no stock-out "
        "within a lead time; the fill rate above is what the plan delivers). "
    )
    if from_backtest.any():
        used = k[from_backtest]
        text += (
            f"{int(from_backtest.sum())} SKU(s) take sigma over their lead time from the backtest: "
            f"{int(used['error_origins'].max())} forecast origin(s), {int(used['error_samples'].median())} "
            "lead-time errors per SKU (median). "
        )
    others = k.loc[~from_backtest, "sigma_source"].value_counts()
    if len(others):
        text += "Fallback: " + ", ".join(f"{n} SKU(s) {src}" for src, n in others.items()) + ". "
    none = k[k["safety_stock_reason"] != ""]
    if len(none):
        reasons = none["safety_stock_reason"].value_counts()
        text += "No safety stock for " + ", ".join(f"{n} SKU(s) with {r}" for r, n in reasons.items()) + "."
    return Callout(text.strip(), "info")


FORMATS = {  # number formats of every column these views produce, for `report.table(..., formats=FORMATS)`
    "Fill rate": ".1%",
    "Fill rate, high demand": ".1%",
    "Lowest family fill rate": ".1%",
    "Load": ".0%",
    "Min weeks of supply": ",.1f",
    "Weeks of supply": ",.1f",
    **{
        c: ",.0f"
        for c in (
            "Production",
            "Overtime",
            "Holding",
            "Backlog",
            "Lost sales",
            "Closing stock value",
            "Below-safety-stock penalty",
            "Units lost",
            "Total cost",
            "Overtime hours",
            "Backlog at end",
            "Required h",
            "Regular h",
            "Overtime h",
            "Demand",
            "Ending stock",
            "Peak backlog",
            "Cost",
            "Units late",
            "Peak shortage",
            "Peak shortage value",
            "On hand",
            "Safety stock",
            "Excess",
            "Excess value",
            "Safety stock units",
            "Safety stock value",
            "Policy safety stock (inventory table)",
            "Peak units below SS",
            "Shortage value",
        )
    },
}


def overload_table(sp: SupplyPlan, top: int = 2) -> pd.DataFrame:
    """Resource-months whose demand needs more than regular hours, with the families that load them most.

    Args:
        sp: The supply plan (`SupplyPlan`).
        top: How many families to name per resource-month.

    Returns:
        One row per overloaded resource-month with readable headers.
    """
    load = sp.capacity_load
    over = load[load["status"] != "ok"].copy()
    if over.empty:
        return pd.DataFrame(
            columns=[
                "Resource",
                "Month",
                "Required h",
                "Regular h",
                "Overtime h",
                "Load",
                "Status",
                "Main families",
            ]
        )
    drivers = overload_drivers(sp, by="family", top=top)
    drivers["label"] = (
        drivers["family"] + " " + (drivers["share"] * 100).round().astype(int).astype(str) + "%"
    )
    names = drivers.groupby(["resource", "month"])["label"].agg(", ".join).rename("Main families")
    over = over.join(names, on=["resource", "month"])
    return pd.DataFrame(
        {
            "Resource": over["resource"],
            "Month": over["month"],
            "Required h": over["required_hours"],
            "Regular h": over["available_hours"],
            "Overtime h": over["overtime_hours"],
            "Load": over["utilisation"],
            "Status": over["status"],
            "Main families": over["Main families"],
        }
    )


def family_table(sp: SupplyPlan) -> pd.DataFrame:
    """The plan in use per family over the horizon: demand, production, stock, backlog, hours and cost.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        One row per family: the plan in use over the horizon.
    """
    p = sp.production_plan[sp.production_plan["strategy"] == sp.strategy]
    last = p["month"].max()
    g = p.groupby("family")
    out = pd.DataFrame(
        {
            "Demand": g["demand"].sum(),
            "Production": g["production"].sum(),
            "Ending stock": p[p["month"] == last].set_index("family")["inventory"],
            "Peak backlog": g["backlog"].max(),
            "Regular h": g["regular_hours"].sum(),
            "Overtime h": g["overtime_hours"].sum(),
            "Cost": g["cost"].sum(),
        }
    ).reset_index()
    return out.rename(columns={"family": "Family"}).sort_values("Cost", ascending=False)


def risk_table(sp: SupplyPlan, top: int = 10) -> pd.DataFrame:
    """Top-risk SKUs with readable headers (see `risk_by_sku`).

    Args:
        sp: The supply plan (`SupplyPlan`).
        top: How many SKUs to show.

    Returns:
        One row per SKU with readable headers, riskiest first.
    """
    r = risk_by_sku(sp, top)
    return pd.DataFrame(
        {
            "SKU": r["unique_id"],
            "Family": r["family"],
            "Units late": r["shortage_units"],
            "Shortage value": r["shortage_value"],
            "First short": _month_text(r["first_shortage"]),
            "Months below SS": r["months_below_safety_stock"],
            "Peak units below SS": r["peak_below_safety_stock"],
            "Fill rate": r["fill_rate"],
            "Min weeks of supply": r["min_weeks_of_supply"],
        }
    )


def shortage_table(sp: SupplyPlan) -> pd.DataFrame:
    """Each SKU that runs short: first month, peak shortage and its value, units late.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        One row per SKU that runs short, with readable headers.
    """
    s = shortages(sp)
    columns = [
        "SKU",
        "Family",
        "First short",
        "Months short",
        "Peak shortage",
        "Peak shortage value",
        "Units late",
    ]
    if s.empty:
        return pd.DataFrame(columns=columns)
    s["late"] = np.minimum(s["demand"], s["shortage"])
    g = s.groupby(["unique_id", "family"])
    out = pd.DataFrame(
        {
            "First short": g["month"].min(),
            "Months short": g["month"].count(),
            "Peak shortage": g["shortage"].max(),
            "Peak shortage value": g["shortage_value"].max(),
            "Units late": g["late"].sum(),
        }
    ).reset_index()
    out = out.rename(columns={"unique_id": "SKU", "family": "Family"})
    return out.sort_values("Peak shortage value", ascending=False)[columns]


def excess_table(sp: SupplyPlan) -> pd.DataFrame:
    """Each SKU holding excess stock, at its peak month (see `excess`).

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        One row per SKU with readable headers, largest excess value first.
    """
    e = excess(sp)
    return pd.DataFrame(
        {
            "SKU": e["unique_id"],
            "Family": e["family"],
            "Peak month": e["month"],
            "On hand": e["on_hand"],
            "Safety stock": e["safety_stock"],
            "Excess": e["excess"],
            "Excess value": e["excess_value"],
            "Weeks of supply": e["weeks_of_supply"],
        }
    )


def safety_stock_table(sp: SupplyPlan) -> pd.DataFrame:
    """Safety stock per family: SKUs, units, value at cost, and where sigma came from.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        One row per family.
    """
    k = sp.sku_parameters.copy()
    k["value"] = k["safety_stock"] * k["unit_cost"]
    sources = k.groupby(["family", "sigma_source"]).size().unstack(fill_value=0)
    source_text = sources.apply(lambda row: ", ".join(f"{n} {src}" for src, n in row.items() if n), axis=1)
    g = k.groupby("family")
    out = pd.DataFrame(
        {
            "SKUs": g.size(),
            "Safety stock units": g["safety_stock"].sum(),
            "Safety stock value": g["value"].sum(),
            "Policy safety stock (inventory table)": g["policy_safety_stock"].sum(min_count=1),
            "Sigma from": source_text,
        }
    ).reset_index()
    return out.rename(columns={"family": "Family"}).sort_values("Safety stock value", ascending=False)


def top_risk_skus(sp: SupplyPlan, n: int = 6) -> list[str]:
    """The `n` riskiest SKUs (for the projection chart).

    Args:
        sp: The supply plan (`SupplyPlan`).
        n: How many SKUs.

    Returns:
        The SKU ids, riskiest first.
    """
    return risk_by_sku(sp, n)["unique_id"].tolist()


def _month_text(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m").fillna("–")


def notes_callout(sp: SupplyPlan) -> Callout:
    """What the plan had to assume about its inputs (missing lead times, capacity months, late supply).

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        The `Callout`: the assumptions, or that none were needed.
    """
    if not sp.notes:
        return Callout("Inputs were complete: no assumptions were needed.", "good")
    return Callout("Assumptions made: " + "; ".join(sp.notes) + ".", "warn")


def overload_report(sp: SupplyPlan) -> Table | Callout:
    """The overload table, or a sentence when every resource-month fits in regular hours.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        The `Table`, or a `Callout` when every resource-month fits in regular hours.
    """
    frame = overload_table(sp)
    if frame.empty:
        return callout("Every resource can make the demand plan in regular hours in every month.", "good")
    return table(
        frame,
        caption="Resource-months loaded beyond regular hours, and the families that load them most",
        formats=FORMATS,
    )


def shortage_report(sp: SupplyPlan) -> Table | Callout:
    """The shortage table, or a sentence when no SKU runs short.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        The `Table`, or a `Callout` when no SKU runs short.
    """
    frame = shortage_table(sp)
    if frame.empty:
        return callout(
            f"No SKU is projected to run short under the {STRATEGY_NAMES[sp.strategy]} plan.", "good"
        )
    return table(frame, caption="Projected shortages, worst first", formats=FORMATS)


def excess_report(sp: SupplyPlan) -> Table | Callout:
    """The excess table, or a sentence when no SKU holds excess stock.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        The `Table`, or a `Callout` when no SKU holds excess stock.
    """
    frame = excess_table(sp)
    if frame.empty:
        return callout("No SKU is projected to hold excess stock.", "good")
    return table(frame, caption="Projected excess stock, largest value first", formats=FORMATS)


def risk_report(sp: SupplyPlan, top: int = 10) -> Table:
    """The top-risk table; its caption says when no SKU is short or below safety stock.

    Args:
        sp: The supply plan (`SupplyPlan`).
        top: How many SKUs to show.

    Returns:
        The `Table`.
    """
    frame = risk_table(sp, top)
    at_risk = (frame["Units late"] > 0) | (frame["Months below SS"] > 0)
    caption = (
        "Top-risk SKUs"
        if at_risk.any()
        else f"No SKU runs short or below safety stock; the {len(frame)} with the least cover are shown"
    )
    return table(frame, caption=caption, formats=FORMATS)
