"""The pre-S&OP products as report tables: readable headings, money in millions or short form."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import Table, money, table
from .scenarios import BASELINE

__all__ = [
    "comparison_table",
    "exceptions_table",
    "family_table",
    "monthly_table",
    "recommendations_table",
    "scenario_notes",
]


def comparison_table(comparison: pd.DataFrame, currency: str = "USD") -> Table:
    """The scenario comparison as a report table: money in millions, rates in percent.

    Scenarios that did not run are left out (`scenario_notes` says why).

    Args:
        comparison: The comparison (`compare`).
        currency: The currency named in the headings.

    Returns:
        A `salesops.report.Table`.
    """
    c = comparison[comparison["ran"].astype(bool)] if "ran" in comparison.columns else comparison
    frame = pd.DataFrame(
        {
            "Scenario": c["scenario"] + np.where(c["recommended"], " (recommended)", ""),
            f"Revenue ({currency} m)": c["revenue"] / 1e6,
            "vs base": c["revenue_vs_baseline"] / 1e6,
            f"Margin ({currency} m)": c["margin"] / 1e6,
            "vs base ": c["margin_vs_baseline"] / 1e6,
            "Margin %": c["margin_pct"],
            "Fill rate": c["fill_rate"],
            f"Avg stock ({currency} m)": c["inventory_value"] / 1e6,
            "Peak load": c["peak_utilisation"],
            "Meets target": np.where(c["meets_service"], "yes", "no"),
        }
    )
    pct = {"Margin %": ".1%", "Fill rate": ".1%", "Peak load": ".0%"}
    millions = {col: ",.2f" for col in frame.columns if "m)" in col}
    return table(frame, formats={**pct, **millions, "vs base": "+,.2f", "vs base ": "+,.2f"})


def scenario_notes(comparison: pd.DataFrame) -> list[str]:
    """One sentence per scenario other than the baseline: its name and what it changes.

    Args:
        comparison: The comparison (`compare`).

    Returns:
        The sentences; a scenario that did not run says why.
    """
    notes = []
    for row in comparison.itertuples():
        if row.scenario == BASELINE:
            continue
        text = f"{row.scenario}: {row.description.rstrip('.')}." if row.description else f"{row.scenario}."
        if not getattr(row, "ran", True):
            text += f" {row.verdict}"
        notes.append(text)
    return notes


def exceptions_table(exceptions_frame: pd.DataFrame, currency: str = "USD", top: int = 12) -> pd.DataFrame:
    """The top exceptions with readable headings, for the reports.

    Args:
        exceptions_frame: The exceptions (`exceptions`), largest first.
        currency: The currency named in the headings.
        top: How many to show.

    Returns:
        `Kind, Subject, From, At risk (CURRENCY), Detail`.
    """
    e = exceptions_frame.head(top)
    return pd.DataFrame(
        {
            "Kind": e["kind"].str.replace("_", " "),
            "Subject": e["subject"],
            "From": e["month"].dt.strftime("%Y-%m"),
            f"At risk ({currency})": e["value_at_risk"].map(money),
            "Detail": e["detail"],
        }
    )


def family_table(by_family: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """Horizon totals per family with readable headings, for the reports.

    Args:
        by_family: `PreSop.by_family()`.
        currency: The currency named in the headings.

    Returns:
        `Family, Demand (units), Late (units), Revenue, Budget, Plan vs budget, Margin %`.
    """
    f = by_family
    return pd.DataFrame(
        {
            "Family": f["family"],
            "Demand (units)": f["demand_units"].round(0),
            "Late (units)": f["shortage_units"].round(0),
            f"Revenue ({currency})": f["revenue"].map(money),
            f"Budget ({currency})": f["budget_revenue"].map(lambda v: "–" if pd.isna(v) else money(v)),
            "Plan vs budget": (f["plan_vs_budget"] / f["budget_revenue"]).map(
                lambda v: "–" if pd.isna(v) else f"{v:+.1%}"
            ),
            "Margin %": f["margin_pct"].map(lambda v: "–" if pd.isna(v) else f"{v:.1%}"),
        }
    )


def recommendations_table(recs: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The decisions needed with readable headings, for the reports.

    Args:
        recs: The decisions (`recommendations`).
        currency: Unused; kept so every table helper takes the same arguments.

    Returns:
        `Id, Decision needed, Owner, Due, Options`.
    """
    return pd.DataFrame(
        {
            "Id": recs["id"],
            "Decision needed": recs["title"],
            "Owner": recs["owner"],
            "Due": pd.to_datetime(recs["due"]).dt.strftime("%Y-%m-%d"),
            "Options": recs["options"],
        }
    )


def monthly_table(gap: pd.DataFrame, currency: str = "USD") -> Table:
    """The monthly gaps, main columns only, as a report table (all columns stay in the product).

    Args:
        gap: The gaps (`gaps`).
        currency: The currency named in the headings.

    Returns:
        A `salesops.report.Table` of at most 36 rows.
    """
    frame = gap[
        [
            "family",
            "month",
            "demand_units",
            "shipped_units",
            "budget_units",
            "revenue",
            "budget_revenue",
            "revenue_gap",
            "margin",
        ]
    ].rename(
        columns={
            "family": "Family",
            "month": "Month",
            "demand_units": "Demand",
            "shipped_units": "Shipped",
            "budget_units": "Budget units",
            "revenue": f"Revenue ({currency})",
            "budget_revenue": f"Budget ({currency})",
            "revenue_gap": "vs budget",
            "margin": f"Margin ({currency})",
        }
    )
    return table(frame, formats={c: ",.0f" for c in frame.columns[2:]}, max_rows=36)
