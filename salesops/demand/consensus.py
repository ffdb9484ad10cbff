"""Sales input and consensus: the pipeline forecast, its learned blend weight, and audited overrides.

- `pipeline_units` spreads the sales pipeline forecast (`ds, sku, family, units, amount`) onto SKUs:
  deals naming a SKU go to it, deals naming only a family are shared by the SKUs' statistical
  forecast, deals naming neither by the SKUs' share of the total.
- `blend_weight` learns how far to move the statistical forecast towards the pipeline from evidence:
  earlier cycles' plans (`statistical`, `pipeline`) scored against what was then sold. It is refitted
  every cycle on the newest data (the adaptive forecast); with no evidence the weight is 0.
- `apply_overrides` applies the planners' overrides from params (per SKU or family and month, a
  quantity or a percentage change, with owner and reason) and returns an audit row for each.

Example:
    >>> blend_weight(pd.DataFrame({"y": [10.0, 12.0], "statistical": [8.0, 8.0], "pipeline": [12.0, 16.0]})).weight
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import metrics
from ..exceptions import DataError

__all__ = [
    "AUDIT_COLUMNS",
    "OVERRIDE_SCORE_COLUMNS",
    "BlendWeight",
    "apply_overrides",
    "blend",
    "blend_weight",
    "override_value_add",
    "pipeline_units",
]

AUDIT_COLUMNS = [
    "unique_id",
    "family",
    "ds",
    "before",
    "after",
    "change",
    "kind",
    "value",
    "owner",
    "reason",
    "status",
]


def pipeline_units(
    pipeline: pd.DataFrame | None, statistical: pd.DataFrame, tags: pd.DataFrame
) -> pd.DataFrame:
    """Pipeline units by SKU and month: `unique_id, ds, pipeline` (empty when there is no pipeline).

    Deals naming a SKU go to it, deals naming only a family are shared by the SKUs' statistical
    forecast, deals naming neither by the SKUs' share of the total. Rows without units (no price
    known) are left out.

    Args:
        pipeline: The pipeline forecast `ds, sku, family, units, amount`, or None.
        statistical: The statistical forecast `unique_id, ds, statistical`.
        tags: The family of each SKU: `unique_id, family`.

    Returns:
        The pipeline units `unique_id, ds, pipeline`.

    Raises:
        DataError: The pipeline forecast lacks a column.

    Example:
        >>> stat = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.Timestamp("2026-01-01"), "statistical": [1.0, 3.0]})
        >>> pipe = pd.DataFrame({"ds": [pd.Timestamp("2026-01-01")], "sku": [None], "family": ["F"], "units": [8.0]})
        >>> pipeline_units(pipe, stat, pd.DataFrame({"unique_id": ["a", "b"], "family": "F"}))["pipeline"].tolist()
        [2.0, 6.0]
    """
    empty = pd.DataFrame(
        {
            "unique_id": pd.Series(dtype=str),
            "ds": pd.Series(dtype="datetime64[ns]"),
            "pipeline": pd.Series(dtype=float),
        }
    )
    if pipeline is None or pipeline.empty:
        return empty
    missing = [c for c in ("ds", "sku", "family", "units") if c not in pipeline.columns]
    if missing:
        raise DataError(
            f"sales_performance/pipeline_forecast lacks column(s) {', '.join(missing)}; "
            "expected ds, sku, family, units, amount (re-run step sales_performance)"
        )
    pipe = pipeline.dropna(subset=["units"]).copy()
    pipe["ds"] = pd.to_datetime(pipe["ds"])
    base = statistical.merge(tags[["unique_id", "family"]], on="unique_id", how="left")
    known = set(base["unique_id"])
    direct = pipe[pipe["sku"].notna() & pipe["sku"].astype(str).isin(known)]
    parts = [direct.assign(unique_id=direct["sku"].astype(str))[["unique_id", "ds", "units"]]]
    # deals naming an unknown SKU fall back to their family (or the total)
    rest = pipe.drop(direct.index)
    by_family = rest[rest["family"].notna()]
    if not by_family.empty:
        share = base.assign(w=base["statistical"].clip(lower=0))
        share["w"] = share["w"] / share.groupby(["family", "ds"])["w"].transform("sum")
        alloc = (
            by_family.groupby(["family", "ds"], as_index=False)["units"]
            .sum()
            .merge(share, on=["family", "ds"])
        )
        parts.append(alloc.assign(units=alloc["units"] * alloc["w"].fillna(0))[["unique_id", "ds", "units"]])
    overall = rest[rest["family"].isna()]
    if not overall.empty:
        share = base.assign(w=base["statistical"].clip(lower=0))
        share["w"] = share["w"] / share.groupby("ds")["w"].transform("sum")
        alloc = overall.groupby("ds", as_index=False)["units"].sum().merge(share, on="ds")
        parts.append(alloc.assign(units=alloc["units"] * alloc["w"].fillna(0))[["unique_id", "ds", "units"]])
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        return empty
    return (
        out.groupby(["unique_id", "ds"], as_index=False)["units"].sum().rename(columns={"units": "pipeline"})
    )


@dataclass
class BlendWeight:
    """The learned blend: weight on the pipeline, rows of evidence, WAPE without and with the blend.

    Attributes:
        weight: The weight on the pipeline, in [0, 1].
        observations: The SKU-months of evidence it was learned on.
        wape_statistical: The WAPE of the statistical forecast on the evidence (a fraction).
        wape_blended: The WAPE of the blended forecast on the evidence (a fraction).

    Example:
        >>> BlendWeight(0.0, 0).sentence().split(",")[0]
        'No earlier plan with a pipeline forecast can be scored yet'
    """

    weight: float
    observations: int
    wape_statistical: float = np.nan
    wape_blended: float = np.nan

    @property
    def helps(self) -> bool:
        """Whether the blend moves the forecast and lowers the WAPE."""
        return self.weight > 0 and self.wape_blended < self.wape_statistical

    def sentence(self) -> str:
        """The blend in one sentence for the report.

        Returns:
            The weight, its evidence and whether the blend helps.
        """
        if self.observations == 0:
            return (
                "No earlier plan with a pipeline forecast can be scored yet, so the pipeline is shown "
                "but not blended (weight 0); the weight is learned once a cycle's months have actuals."
            )
        verdict = "helps" if self.helps else "does not help"
        return (
            f"The pipeline blend weight is {self.weight:.2f}, learned on {self.observations} SKU-months of "
            f"earlier plans: WAPE {self.wape_statistical:.1%} statistical vs {self.wape_blended:.1%} "
            f"blended, so the blend {verdict}."
        )


def blend_weight(evidence: pd.DataFrame) -> BlendWeight:
    """Least-squares weight w in [0, 1] for `(1 − w)·statistical + w·pipeline` against actuals `y`.

    Args:
        evidence: `y, statistical, pipeline` for months that now have actuals (rows without a
            pipeline are ignored).

    Returns:
        The `BlendWeight`; weight 0 when there is no evidence or the pipeline never differs.

    Example:
        >>> e = pd.DataFrame({"y": [15.0, 30.0], "statistical": [10.0, 20.0], "pipeline": [20.0, 40.0]})
        >>> blend_weight(e).weight
        0.5
    """
    if evidence is None or evidence.empty:
        return BlendWeight(0.0, 0)
    e = evidence.dropna(subset=["y", "statistical", "pipeline"])
    if e.empty:
        return BlendWeight(0.0, 0)
    diff = (e["pipeline"] - e["statistical"]).to_numpy()
    gap = (e["y"] - e["statistical"]).to_numpy()
    denom = float(np.dot(diff, diff))
    w = float(np.clip(np.dot(gap, diff) / denom, 0, 1)) if denom > 0 else 0.0
    blended = e["statistical"] + w * (e["pipeline"] - e["statistical"])
    return BlendWeight(
        round(w, 4), len(e), metrics.wape(e["y"], e["statistical"]), metrics.wape(e["y"], blended)
    )


def blend(statistical: pd.DataFrame, pipeline: pd.DataFrame, weight: float) -> pd.DataFrame:
    """`unique_id, ds, statistical, pipeline, blended`: the statistical forecast moved `weight` of the
    way towards the pipeline where the pipeline has a figure, unchanged elsewhere.

    Args:
        statistical: The statistical forecast `unique_id, ds, statistical`.
        pipeline: The pipeline units `unique_id, ds, pipeline` (`pipeline_units`).
        weight: The weight on the pipeline, in [0, 1].

    Returns:
        The statistical rows with `pipeline` (NaN where none) and `blended`.

    Example:
        >>> s = pd.DataFrame({"unique_id": ["a"], "ds": [pd.Timestamp("2026-01-01")], "statistical": [10.0]})
        >>> p = pd.DataFrame({"unique_id": ["a"], "ds": [pd.Timestamp("2026-01-01")], "pipeline": [20.0]})
        >>> blend(s, p, 0.25)["blended"].tolist()
        [12.5]
    """
    out = statistical.merge(pipeline, on=["unique_id", "ds"], how="left")
    moved = out["statistical"] + weight * (out["pipeline"] - out["statistical"])
    out["blended"] = moved.where(out["pipeline"].notna(), out["statistical"])
    return out


def apply_overrides(
    plan: pd.DataFrame, overrides, column: str = "consensus", scale: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Applies overrides (`salesops.params.Override` objects or dicts) to `plan[column]` in order.

    A SKU override sets (`quantity`) or changes (`change_pct`) that SKU-month; a family override does
    the same to the family's total, shared by the SKUs in proportion to their current figures.

    Args:
        plan: The plan `unique_id, family, ds` and `column`.
        overrides: The overrides, applied in order.
        column: The column the overrides change.
        scale: Columns (interval bounds) that move by the same ratio as `column`.

    Returns:
        `(plan, audit)`: the new plan, and the audit (`AUDIT_COLUMNS`, one row per SKU-month touched;
        an override that matches nothing gets one row with its status).
    """
    plan = plan.copy()
    rows = []
    first, last = plan["ds"].min(), plan["ds"].max()
    for item in overrides or ():
        o = item if isinstance(item, dict) else item.model_dump()
        month = pd.Timestamp(f"{o['month']}-01")
        kind, value = (
            ("quantity", o.get("quantity"))
            if o.get("quantity") is not None
            else ("change_pct", o.get("change_pct"))
        )
        base = {"ds": month, "kind": kind, "value": value, "owner": o["owner"], "reason": o["reason"]}
        if o.get("sku") is not None:
            mask = (plan["unique_id"] == str(o["sku"])) & (plan["ds"] == month)
            target = {"unique_id": str(o["sku"]), "family": None}
        else:
            mask = (plan["family"] == str(o.get("family"))) & (plan["ds"] == month)
            target = {"unique_id": None, "family": str(o.get("family"))}
        if value is None:
            rows.append({**target, **base, "status": "ignored: give quantity or change_pct"})
            continue
        if not mask.any():
            where = "outside the plan" if not first <= month <= last else "unknown SKU or family"
            rows.append(
                {**target, **base, "status": f"ignored: {where} (plan covers {first:%Y-%m} to {last:%Y-%m})"}
            )
            continue
        before = plan.loc[mask, column].astype(float)
        total = float(before.sum())
        if kind == "change_pct":
            after = before * (1 + float(value) / 100)
        elif total > 0:
            after = before * (float(value) / total)
            after.iloc[int(np.argmax(after.to_numpy()))] += float(value) - after.sum()  # exact total
        else:
            after = pd.Series(float(value) / mask.sum(), index=before.index)
        ratio = (after / before.where(before != 0)).fillna(1.0)
        for col in scale:
            if col in plan.columns:
                plan.loc[mask, col] = plan.loc[mask, col] * ratio + (after - before).where(before == 0, 0.0)
        plan.loc[mask, column] = after
        for idx in before.index:
            rows.append(
                {
                    **base,
                    "unique_id": plan.at[idx, "unique_id"],
                    "family": plan.at[idx, "family"],
                    "before": before[idx],
                    "after": after[idx],
                    "change": after[idx] - before[idx],
                    "status": "applied",
                }
            )
    audit = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    return plan, audit


OVERRIDE_SCORE_COLUMNS = [
    "period",
    "target",
    "ds",
    "owner",
    "reason",
    "change",
    "actual",
    "error_without",
    "error_with",
    "value_add",
    "verdict",
]


def override_value_add(audits: dict[str, pd.DataFrame], history: pd.DataFrame) -> pd.DataFrame:
    """What each earlier override added: the plan's error without it against the error with it.

    For each applied override of an earlier cycle (its `overrides_audit`), summed over the SKU-months
    it touched that have an actual now: `error_without` = sum |before - actual|, `error_with` =
    sum |after - actual|, `value_add` = error_without - error_with (units; positive = the override
    helped).

    Args:
        audits: Earlier cycles' `overrides_audit` products by period.
        history: Actual demand, `unique_id, ds, y`.

    Returns:
        `OVERRIDE_SCORE_COLUMNS`, newest cycle first; `verdict` is helped, hurt, no effect, or
        "not scored yet" while none of its months has an actual.

    Example:
        >>> audit = pd.DataFrame({"unique_id": ["a"], "family": ["F"], "ds": [pd.Timestamp("2026-06-01")],
        ...     "before": [100.0], "after": [150.0], "change": [50.0], "kind": ["change_pct"], "value": [50.0],
        ...     "owner": ["Ana"], "reason": ["promotion"], "status": ["applied"]})
        >>> hist = pd.DataFrame({"unique_id": ["a"], "ds": [pd.Timestamp("2026-06-01")], "y": [160.0]})
        >>> override_value_add({"2026-06": audit}, hist)[["value_add", "verdict"]].values.tolist()
        [[50.0, 'helped']]
    """
    parts = [a.assign(period=p) for p, a in audits.items() if len(a)]
    if not parts:
        return pd.DataFrame(columns=OVERRIDE_SCORE_COLUMNS)
    audit = pd.concat(parts, ignore_index=True)
    audit = audit[audit["status"] == "applied"].copy()
    if audit.empty:
        return pd.DataFrame(columns=OVERRIDE_SCORE_COLUMNS)
    audit["ds"] = pd.to_datetime(audit["ds"])
    audit = audit.merge(history[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="left")
    audit["error_without"] = (audit["before"] - audit["y"]).abs()
    audit["error_with"] = (audit["after"] - audit["y"]).abs()
    # one override = one params entry: same cycle, month, owner, reason, kind and value
    keys = ["period", "ds", "owner", "reason", "kind", "value"]
    grouped = audit.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(
        skus=("unique_id", "nunique"),
        first_sku=("unique_id", "first"),
        family=("family", "first"),
        change=("change", "sum"),
        actual=("y", lambda s: s.sum(min_count=1)),
        error_without=("error_without", lambda s: s.sum(min_count=1)),
        error_with=("error_with", lambda s: s.sum(min_count=1)),
    ).reset_index()
    out["target"] = out["first_sku"].where(
        out["skus"] == 1, out["family"] + " (" + out["skus"].astype(str) + " SKUs)"
    )
    out["value_add"] = out["error_without"] - out["error_with"]
    out["verdict"] = np.select(
        [out["actual"].isna(), out["value_add"] > 0, out["value_add"] < 0],
        ["not scored yet", "helped", "hurt"],
        "no effect",
    )
    out = out.sort_values(["period", "ds"], ascending=False, kind="stable")
    return out[OVERRIDE_SCORE_COLUMNS].reset_index(drop=True)
