"""Sales performance: quota attainment, rep comparison, pipeline health, compensation and eNPS.

The step `sales_performance` uses `SalesPerformance`, which reads the input tables once and computes
each product on first use:

| product | columns |
|---|---|
| `attainment` | `level, name, team, region, window, window_start, window_end, quota, quota_to_date, won, attainment, run_rate_remaining, pipeline_remaining, forecast, forecast_attainment, status` |
| `rep_comparison` | `rep, team, region, closed, won, lost, win_rate, won_amount, avg_deal, cycle_days, quota, attainment, open_deals, weighted_pipeline, remaining_quota, coverage, activity_*, velocity_per_month, z_*, outlier, outlier_note` |
| `pipeline_forecast` | `ds, sku, family, units, amount` |
| `payouts` | `month, rep, team, target_incentive, quota, won, attainment, individual_rate, team_quota, team_won, team_attainment, team_rate, individual_weight, team_weight, individual_payout, team_payout, payout, note` |
| `enps` | `team, month, responses, promoters, passives, detractors, enps, suppressed, headcount, response_rate, change` |
| `funnel` | `stage, opportunities, amount, reached, conversion_to_next, win_probability` |

The cycle for PERIOD has history through the month before, so `as_of` is the day before PERIOD starts:
attainment covers the month, quarter and year containing that day, and payouts the month that ended.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from ..params import Params
from ..steps import StepResult
from . import _frames
from .compensation import payout_rate, payouts, target_incentives
from .enps import classify, enps
from .performance import attainment, deal_metrics, performers, rep_comparison, robust_z, windows
from .pipeline import (
    aging,
    closed_deals,
    funnel,
    open_deals,
    open_pipeline,
    pipeline_forecast,
    slippage,
    stage_probabilities,
    velocity,
)
from .pointintime import (
    PIPELINE_COLUMNS,
    as_of_start,
    calibration,
    learned_probabilities,
    pipeline_at,
    stage_bands,
)
from .scoring import evaluate as evaluate_win_model
from .territories import account_owners, concentration, gini, rebalancing, territories, top_decile_share

__all__ = [
    "PIPELINE_COLUMNS",
    "PRODUCTS",
    "SalesPerformance",
    "account_owners",
    "aging",
    "as_of_start",
    "attainment",
    "attainment_chart",
    "calibration",
    "calibration_chart",
    "classify",
    "closed_deals",
    "concentration",
    "deal_metrics",
    "enps",
    "enps_chart",
    "evaluate_win_model",
    "funnel",
    "funnel_chart",
    "gini",
    "learned_probabilities",
    "open_deals",
    "open_pipeline",
    "payout_rate",
    "payouts",
    "performers",
    "pipeline_at",
    "pipeline_forecast",
    "pipeline_forecast_chart",
    "rebalancing",
    "rep_comparison",
    "robust_z",
    "run",
    "slippage",
    "stage_bands",
    "stage_probabilities",
    "target_incentives",
    "territories",
    "territory_chart",
    "top_decile_share",
    "velocity",
    "windows",
]

_CHARTS = (
    "attainment_chart",
    "calibration_chart",
    "enps_chart",
    "funnel_chart",
    "pipeline_forecast_chart",
    "territory_chart",
)


def __getattr__(name: str):
    # charts import Altair (slow to import), so they load on first use only
    if name in _CHARTS:
        from . import charts

        return getattr(charts, name)
    raise AttributeError(f"module 'salesops.sales' has no attribute '{name}'")


PRODUCTS = (
    "attainment",
    "rep_comparison",
    "pipeline_forecast",
    "payouts",
    "enps",
    "funnel",
    "open_pipeline",
    "win_model_evaluation",
    "territories",
    "pipeline_calibration",
)
EMPTY = {
    "opportunities": ["opportunity_id", "rep", "stage", "amount", "created_date", "close_date"],
    "reps": ["rep", "team", "region"],
    "quotas": ["rep", "month", "quota"],
    "survey": ["respondent", "team", "date", "score"],
    "products": ["sku", "family", "unit_price"],
    "accounts": ["account"],
    "opportunity_history": ["opportunity_id", "stage", "date"],
}


def run(ctx) -> SalesPerformance:
    """The sales performance step: every sales product of the period, from the snapshot's tables.

    Args:
        ctx: The sales performance step's context.

    Returns:
        The `SalesPerformance`; `ctx.save(sp)` writes its products.

    Example:
        >>> sp = run(ctx)                                                  # doctest: +SKIP
        >>> sp.attainment.query("level == 'company'")                      # doctest: +SKIP
        >>> ctx.save(sp)                                                   # doctest: +SKIP
    """
    return SalesPerformance({name: ctx.table(name, default=None) for name in EMPTY}, ctx.p)


class SalesPerformance(StepResult):
    """Every sales product of one period, computed from the input tables on first use.

    Args:
        tables: The input tables by name (`opportunities`, `reps`, `quotas`, `survey`, `products`);
            a missing one counts as empty.
        p: The validated parameters of the period.
    """

    def __init__(self, tables: dict[str, pd.DataFrame], p: Params):
        self.p = p
        self.tables = {
            name: tables.get(name) if tables.get(name) is not None else pd.DataFrame(columns=cols)
            for name, cols in EMPTY.items()
        }
        self.as_of = p.period_start - pd.Timedelta(days=1)
        self.all_opportunities = _frames.opportunities(self.tables["opportunities"])
        history = self.tables["opportunity_history"]
        self.history = history if len(history) else None
        self.bands = stage_bands(self.all_opportunities)
        # every figure of the period uses the CRM as it stood at the period's start
        self.opportunities, self.undated_left_out = as_of_start(
            self.all_opportunities, p.period_start, self.history, self.bands
        )

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """The step's products (`PRODUCTS`), name to frame."""
        return {name: getattr(self, name) for name in PRODUCTS}

    # ---------------------------------------------------------------- pipeline
    @cached_property
    def stage_probabilities(self) -> pd.DataFrame:
        probs = learned_probabilities(
            self.all_opportunities, self.as_of, self.p.sales.lookback_months, self.history, self.bands
        )
        open_now = open_deals(self.opportunities, self.as_of)["stage"].value_counts()
        probs.insert(1, "open_deals", probs["stage"].map(open_now).fillna(0).astype(float))
        probs["lost_at_stage"] = probs["lost_reached"] - probs["lost_reached"].shift(-1, fill_value=0.0)
        used = (probs["open_deals"] > 0) | (probs["lost_at_stage"] > 0)
        return probs.loc[used].reset_index(drop=True)

    @cached_property
    def _win_model(self) -> tuple[pd.DataFrame, pd.Series | None, str]:
        return evaluate_win_model(
            self.all_opportunities,
            self.p.period_start,
            self.p.sales.lookback_months,
            self.tables["accounts"],
            self.history,
        )

    @property
    def win_model_evaluation(self) -> pd.DataFrame:
        """`model, auc, brier, log_loss, n_train, n_test, test_from, test_to, used`: the win model and
        the stage-only baseline, tested out of time on the last quarter's closed deals."""
        return self._win_model[0]

    @property
    def win_model_note(self) -> str:
        """Which probabilities feed the pipeline forecast, and why."""
        return self._win_model[2]

    @cached_property
    def pipeline(self) -> pd.DataFrame:
        return pipeline_at(
            self.opportunities,
            self.p.period_start,
            self.stage_probabilities,
            self.all_opportunities,
            self.p.sales.lookback_months,
            self._win_model[1],
        )

    @property
    def open_pipeline(self) -> pd.DataFrame:
        """One row per deal open at the period's start, as the CRM stood then (`PIPELINE_COLUMNS`)."""
        return self.pipeline.loc[:, PIPELINE_COLUMNS]

    @cached_property
    def pipeline_calibration(self) -> pd.DataFrame:
        """What the pipeline at each of the last six months' starts expected to win in the month, and
        what was won (`month, open_deals, expected, won, won_all, ratio`)."""
        return calibration(
            self.all_opportunities, self.p.period_start, self.p.sales.lookback_months, self.history
        )

    @cached_property
    def territories(self) -> pd.DataFrame:
        """Per rep and region: accounts, leads, open pipeline, won revenue, win rate, fair share of leads."""
        return territories(
            self.opportunities,
            self.tables["reps"],
            self.pipeline,
            self.as_of,
            self.p.sales.lookback_months,
            self.tables["accounts"],
        )

    @cached_property
    def account_owners(self) -> pd.DataFrame:
        """Accounts with no owner or several owners (`account, owners, deals, status`)."""
        owners = account_owners(
            self.opportunities, self.as_of, self.p.sales.lookback_months, self.tables["accounts"]
        )
        owners["owners"] = owners["owners"].map(", ".join)
        return owners.loc[owners["status"] != "one owner"].reset_index(drop=True)

    @property
    def concentration(self) -> pd.DataFrame:
        """Gini and top-decile share of leads, pipeline, won revenue and accounts across reps."""
        return concentration(self.territories)

    @cached_property
    def rebalancing(self) -> pd.DataFrame:
        """Suggested account moves between reps of a region, with the expected effect."""
        return rebalancing(self.territories, self.opportunities, self.as_of, self.p.sales.lookback_months)

    def territory_notes(self) -> list[str]:
        """Sentences on lead concentration, fairness, ownership and the suggested moves.

        Returns:
            The sentences, for `salesops.report.bullets`.
        """
        conc = self.concentration.set_index("measure")
        reps = self.territories.loc[self.territories["level"] == "rep"]
        lines = []
        if len(reps) and reps["leads"].sum():
            lines.append(
                f"Leads across {len(reps)} reps: Gini {conc.at['leads', 'gini']:.2f}, the top tenth of reps "
                f"received {conc.at['leads', 'top_decile_share']:.0%}; "
                f"{conc.at['leads off fair share', 'gini']:.0%} of leads would move to match capacity and tenure."
            )
        owners = self.account_owners
        if len(owners):
            counts = owners["status"].value_counts()
            lines.append(
                f"{int(counts.get('no owner', 0))} accounts have no owner and "
                f"{int(counts.get('several owners', 0))} have several."
            )
        moves = self.rebalancing
        if len(moves):
            lines.append(
                f"Suggested: move {len(moves)} accounts ({int(moves['leads'].sum())} leads); lead Gini "
                f"{moves['gini_before'].iloc[0]:.2f} -> {moves['gini_after'].iloc[0]:.2f}, expected won "
                f"{self._currency_symbol}{moves['expected_won_change'].sum():+,.0f} a year at current win rates."
            )
        elif len(reps):
            lines.append("No rebalancing suggested: every rep is within 20% of a fair share of leads.")
        return lines

    def pipeline_notes(self) -> list[str]:
        """Sentences on the point-in-time pipeline: left-out undated deals and the probabilities used.

        Returns:
            The sentences, for `salesops.report.bullets`.
        """
        lines = [
            (
                f"The pipeline is the CRM as it stood on {self.p.period_start:%Y-%m-%d}: "
                f"{len(self.pipeline):,} deals open then (created before it, not closed before it)."
            )
        ]
        if self.undated_left_out:
            lines.append(
                f"{self.undated_left_out:,} deals without a created date are left out: they count only in the "
                "latest period, since nobody knows when they were open."
            )
        lines.append(self.win_model_note[0].upper() + self.win_model_note[1:] + ".")
        return lines

    @cached_property
    def pipeline_forecast(self) -> pd.DataFrame:
        return pipeline_forecast(self.pipeline, self.tables["products"])

    @cached_property
    def funnel(self) -> pd.DataFrame:
        return funnel(
            self.opportunities,
            self.as_of,
            self.stage_probabilities,
            self.p.sales.lookback_months,
            self.pipeline,
        )

    @cached_property
    def aging(self) -> pd.DataFrame:
        return aging(self.pipeline)

    @cached_property
    def slippage(self) -> pd.DataFrame:
        return slippage(self.pipeline)

    # ---------------------------------------------------------------- performance
    @cached_property
    def attainment(self) -> pd.DataFrame:
        return attainment(
            self.opportunities,
            self.tables["quotas"],
            self.tables["reps"],
            self.pipeline,
            self.as_of,
            self.p.sales.at_risk_attainment,
        )

    @cached_property
    def rep_comparison(self) -> pd.DataFrame:
        return rep_comparison(
            self.opportunities,
            self.tables["quotas"],
            self.tables["reps"],
            self.pipeline,
            self.as_of,
            self.p.sales.lookback_months,
            self.p.sales.outlier_z,
        )

    @cached_property
    def performers(self) -> pd.DataFrame:
        return performers(
            self.rep_comparison,
            currency=self._currency_symbol,
            span=f"over the last {self.p.sales.lookback_months} months",
        )

    @property
    def outliers(self) -> pd.DataFrame:
        """Reps flagged against their team, with the reason."""
        cols = ["rep", "team", "attainment", "win_rate", "avg_deal", "cycle_days", "coverage", "outlier_note"]
        return self.rep_comparison.loc[self.rep_comparison["outlier"], cols].reset_index(drop=True)

    # ---------------------------------------------------------------- pay and engagement
    @cached_property
    def payouts(self) -> pd.DataFrame:
        return payouts(
            self.opportunities,
            self.tables["quotas"],
            self.tables["reps"],
            self.p.sales.compensation,
            self.as_of,
        )

    @cached_property
    def enps(self) -> pd.DataFrame:
        return enps(
            self.tables["survey"],
            self.tables["reps"],
            self.p.sales.enps_min_responses,
            self.p.sales.enps_question,
        )

    # ---------------------------------------------------------------- summaries for the report
    def enps_summary(self) -> pd.DataFrame:
        """eNPS of the latest survey month per team, with why a team's scores are hidden.

        Returns:
            The latest month's rows of `enps` with a `note` saying why hidden scores are hidden.
        """
        frame = self.enps
        if frame.empty:
            return frame
        latest = frame.loc[frame["month"] == frame["month"].max()].copy()
        minimum = self.p.sales.enps_min_responses
        latest["note"] = [
            (
                ""
                if not hidden
                else f"hidden: fewer than {minimum} answers"
                if n < minimum
                else "hidden so the company row cannot reveal a smaller team"
            )
            for hidden, n in zip(latest["suppressed"], latest["responses"])
        ]
        return latest.drop(columns="suppressed").reset_index(drop=True)

    @property
    def _currency_symbol(self) -> str:
        return {"USD": "$", "EUR": "€", "GBP": "£"}.get(self.p.currency, f"{self.p.currency} ")

    def status_table(self, window: str = "quarter") -> pd.DataFrame:
        """Reps of `window` sorted from furthest behind to furthest ahead: who is on track and who needs help.

        Args:
            window: The quota window: `month`, `quarter` or `year`.

        Returns:
            `rep, team, quota, won, forecast, forecast_attainment, status`, furthest behind first.
        """
        frame = self.attainment.loc[
            (self.attainment["level"] == "rep") & (self.attainment["window"] == window)
        ]
        cols = ["name", "team", "quota", "won", "forecast", "forecast_attainment", "status"]
        return (
            frame.sort_values("forecast_attainment", na_position="first")
            .loc[:, cols]
            .rename(columns={"name": "rep"})
            .reset_index(drop=True)
        )

    def kpi_tiles(self) -> list[tuple[str, str, str, str]]:
        """`(label, value, detail, status)` tuples for `salesops.report.tiles`.

        Returns:
            One tuple per tile: company forecast attainment (quarter, year), reps on track and behind, and
            the other headline figures.
        """
        cur = self._currency_symbol
        att = self.attainment
        company = att.loc[att["level"] == "company"].set_index("window")
        reps = att.loc[(att["level"] == "rep") & (att["window"] == "quarter") & (att["status"] != "no quota")]
        on_track = int((reps["status"] == "on track").sum())
        behind = int((reps["status"] == "behind").sum())
        tiles = []
        for window in ("quarter", "year"):
            if window in company.index:
                row = company.loc[window]
                value = row["forecast_attainment"]
                status = (
                    "good" if value >= 1 else ("warn" if value >= self.p.sales.at_risk_attainment else "bad")
                )
                tiles.append(
                    (
                        f"{window.title()} forecast vs quota",
                        _pct(value),
                        f"won {cur}{row['won']:,.0f} of {cur}{row['quota']:,.0f}",
                        status if pd.notna(value) else "info",
                    )
                )
        if len(reps):
            tiles.append(
                (
                    "Reps on track (quarter)",
                    f"{on_track} of {len(reps)}",
                    f"{behind} behind",
                    "good" if on_track >= len(reps) / 2 else "warn",
                )
            )
        comp = self.rep_comparison
        closed = comp["closed"].sum()
        win_rate = comp["won"].sum() / closed if closed else float("nan")
        tiles.append(
            (
                "Win rate",
                _pct(win_rate),
                f"{int(closed):,} deals closed in {self.p.sales.lookback_months} months",
                "info",
            )
        )
        tiles.append(
            (
                "Weighted pipeline",
                f"{cur}{self.pipeline['expected_amount'].sum():,.0f}",
                f"{len(self.pipeline):,} open deals, {int(self.pipeline['stale'].sum()):,} stale",
                "info",
            )
        )
        pay = self.payouts
        if len(pay):
            tiles.append(
                (
                    f"Payouts {self.as_of:%b %Y}",
                    f"{cur}{pay['payout'].sum():,.0f}",
                    f"on-target {cur}{pay['target_incentive'].sum():,.0f}",
                    "info",
                )
            )
        company_enps = self.enps.loc[(self.enps["team"] == "All") & self.enps["enps"].notna()]
        if len(company_enps):
            last = company_enps.iloc[-1]
            tiles.append(
                (
                    f"eNPS {last['month']:%b %Y}",
                    f"{float(last['enps']):+.0f}",
                    f"{int(last['responses'])} responses",
                    "good" if last["enps"] > 0 else "warn",
                )
            )
        return tiles

    def headlines(self, window: str = "quarter") -> list[str]:
        """Sentences answering who is on track, who needs help, and why.

        Args:
            window: The quota window: `month`, `quarter` or `year`.

        Returns:
            The sentences, for `salesops.report.bullets`.
        """
        table = self.status_table(window)
        table = table.loc[table["status"] != "no quota"]
        lines = []
        on_track = table.loc[table["status"] == "on track", "rep"].tolist()
        behind = table.loc[table["status"] == "behind"]
        at_risk = table.loc[table["status"] == "at risk", "rep"].tolist()
        if len(table):
            lines.append(
                f"{len(on_track)} of {len(table)} reps are forecast to reach their {window} quota; "
                f"{len(at_risk)} at risk and {len(behind)} behind."
            )
        if len(behind):
            names = ", ".join(
                f"{r} ({_pct(a)})" for r, a in zip(behind["rep"].head(5), behind["forecast_attainment"])
            )
            lines.append(f"Needs help most (forecast vs {window} quota): {names}.")
        lines += self.performers["why"].tolist()
        slipped = int(self.pipeline["slipped"].sum())
        stale = int(self.pipeline["stale"].sum())
        if slipped or stale:
            lines.append(
                f"{slipped:,} open deals are past their close date and {stale:,} are older than 90% of "
                "won deals' cycles: clean them up before trusting the pipeline."
            )
        return lines


def _pct(value: float) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.0%}"
