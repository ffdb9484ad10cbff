"""SKU -> family -> total hierarchy: aggregation and coherent reconciliation.

`reconcile` makes forecasts add up across levels: bottom-up (the default: families and the total
are sums of SKUs), or the trace-minimisation family with a diagonal weight matrix (`mint_wls`:
weights = each node's error variance; `ols`: equal weights), which also revises SKU forecasts using
the family and total forecasts (Wickramasuriya, Athanasopoulos & Hyndman 2019).

Example:
    >>> tags = pd.DataFrame({"unique_id": ["a", "b"], "family": ["F", "F"]})
    >>> base = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.Timestamp("2026-01-01"), "yhat": [1.0, 2.0]})
    >>> reconcile(base, tags)["yhat"].tolist()
    [1.0, 2.0, 3.0, 3.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError

__all__ = ["TOTAL", "aggregate", "reconcile", "summing_matrix"]

TOTAL = "Total"
LEVELS = ("sku", "family", "total")


def _nodes(tags: pd.DataFrame) -> pd.DataFrame:
    """All nodes in order: total, families, SKUs; columns `level, unique_id`."""
    fams = sorted(tags["family"].astype(str).unique())
    skus = list(tags["unique_id"].astype(str))
    return pd.DataFrame(
        {
            "level": ["total"] + ["family"] * len(fams) + ["sku"] * len(skus),
            "unique_id": [TOTAL] + fams + skus,
        }
    )


def summing_matrix(tags: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """The summing matrix S (nodes x SKUs) and the node table (`level, unique_id`).

    Args:
        tags: The family of each SKU: `unique_id, family`.

    Returns:
        `(S, nodes)`: S has a row per node (total, families, SKUs) and a column per SKU, in the
        order of `nodes`.

    Example:
        >>> S, nodes = summing_matrix(pd.DataFrame({"unique_id": ["a", "b"], "family": ["F", "G"]}))
        >>> S.tolist()
        [[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    tags = _check_tags(tags)
    nodes = _nodes(tags)
    fams = nodes.loc[nodes["level"] == "family", "unique_id"].tolist()
    fam_of = tags["family"].astype(str).to_numpy()
    S = np.vstack(
        [
            np.ones((1, len(tags))),
            np.array([[1.0 if f == fam else 0.0 for f in fam_of] for fam in fams]).reshape(
                len(fams), len(tags)
            ),
            np.eye(len(tags)),
        ]
    )
    return S, nodes


def _check_tags(tags: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("unique_id", "family") if c not in tags.columns]
    if missing:
        raise DataError(
            f"hierarchy tags lack column(s) {', '.join(missing)}; pass unique_id (SKU) and family"
        )
    tags = tags.loc[:, ["unique_id", "family"]].drop_duplicates("unique_id").reset_index(drop=True)
    tags["unique_id"] = tags["unique_id"].astype(str)
    tags["family"] = tags["family"].fillna("(no family)").astype(str)
    return tags


def aggregate(df: pd.DataFrame, tags: pd.DataFrame, value: str | list[str] = "y") -> pd.DataFrame:
    """Sums a SKU-level long frame up the hierarchy: `level, unique_id, ds, value...` for every node.

    SKUs missing from `tags` go to the family "(no family)".

    Args:
        df: The SKU-level long frame `unique_id, ds` and the value columns.
        tags: The family of each SKU: `unique_id, family`.
        value: The column or columns to sum.

    Returns:
        One row per node and month: `level` (`total`, `family`, `sku`), `unique_id`, `ds` and the
        values.

    Example:
        >>> h = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.Timestamp("2026-01-01"), "y": [1.0, 2.0]})
        >>> aggregate(h, pd.DataFrame({"unique_id": ["a", "b"], "family": ["F", "F"]}))["y"].tolist()
        [1.0, 2.0, 3.0, 3.0]
    """
    values = [value] if isinstance(value, str) else list(value)
    tags = _check_tags(tags)
    frame = df.merge(tags, on="unique_id", how="left")
    frame["family"] = frame["family"].fillna("(no family)")
    sku = frame.assign(level="sku")[["level", "unique_id", "ds"] + values]
    fam = (
        frame.groupby(["family", "ds"], as_index=False)[values]
        .sum()
        .rename(columns={"family": "unique_id"})
        .assign(level="family")
    )
    tot = frame.groupby("ds", as_index=False)[values].sum().assign(level="total", unique_id=TOTAL)
    out = pd.concat([sku, fam[sku.columns], tot[sku.columns]], ignore_index=True)
    return out.sort_values(["level", "unique_id", "ds"], key=_level_key).reset_index(drop=True)


def _level_key(s: pd.Series):
    return s.map({k: i for i, k in enumerate(LEVELS)}) if s.name == "level" else s


def reconcile(
    base: pd.DataFrame,
    tags: pd.DataFrame,
    method: str = "bottom_up",
    value: str = "yhat",
    variances: pd.Series | None = None,
) -> pd.DataFrame:
    """Coherent forecasts at SKU, family and total level: `level, unique_id, ds, value`.

    Args:
        base: The base forecasts `unique_id, ds, value`: for SKUs (`bottom_up`) or for every node
            (`mint_wls`, `ols`: family rows keyed by family name, the total by "Total"; use
            `aggregate`-shaped frames, a `level` column is optional).
        tags: The family of each SKU: `unique_id, family`.
        method: `bottom_up`, `mint_wls`, `ols`, or `none` (the base forecasts, unchanged).
        value: The forecast column.
        variances: The base forecasts' error variances, indexed by node `unique_id`, weighting
            `mint_wls`; missing ones use the structural weight (number of SKUs under the node).

    Returns:
        The coherent forecasts `level, unique_id, ds, value` of every node: SKUs, families, then
        the total.

    Raises:
        DataError: The method is unknown, or `tags` or `base` cannot be used.

    Example:
        >>> tags = pd.DataFrame({"unique_id": ["a", "b"], "family": ["F", "F"]})
        >>> base = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.Timestamp("2026-01-01"), "yhat": [1.0, 2.0]})
        >>> reconcile(base, tags)[["level", "yhat"]].values.tolist()
        [['sku', 1.0], ['sku', 2.0], ['family', 3.0], ['total', 3.0]]
    """
    if method not in ("bottom_up", "mint_wls", "ols", "none"):
        raise DataError(f"reconciliation method {method!r} is unknown; use bottom_up, mint_wls, ols or none")
    tags = _check_tags(tags)
    S, nodes = summing_matrix(tags)
    skus = tags["unique_id"].tolist()
    sku_base = base[base["unique_id"].isin(skus)]
    if "level" in base.columns:
        sku_base = base[(base["level"] == "sku") & base["unique_id"].isin(skus)]
    if method in ("bottom_up", "none") or len(skus) == 0:
        bottom = sku_base.pivot_table(index="ds", columns="unique_id", values=value, aggfunc="sum")
        bottom = bottom.reindex(columns=skus).fillna(0.0)
        if method == "none":
            out = base.copy()
            if "level" not in out.columns:
                out = aggregate(sku_base.rename(columns={value: value}), tags, value)
            return out
        coherent = bottom.to_numpy() @ S.T
    else:
        keyed = base.copy()
        if "level" not in keyed.columns:
            keyed = keyed.merge(nodes, on="unique_id", how="left")
        wide = keyed.pivot_table(index="ds", columns=["level", "unique_id"], values=value, aggfunc="sum")
        cols = list(zip(nodes["level"], nodes["unique_id"]))
        absent = [c for c in cols if c not in wide.columns]
        if absent:
            raise DataError(
                f"{method} reconciliation needs base forecasts for every node; missing "
                f"{', '.join(f'{lv} {uid}' for lv, uid in absent[:5])}; forecast the aggregated "
                "series too (see salesops.demand.hierarchy.aggregate)"
            )
        Y = wide[cols].to_numpy()
        if method == "ols":
            w = np.ones(len(nodes))
        else:
            w = S.sum(axis=1)
            if variances is not None:
                v = nodes["unique_id"].map(variances).to_numpy(dtype=float)
                w = np.where(np.isfinite(v) & (v > 0), v, w)
        Winv = np.diag(1 / w)
        P = np.linalg.solve(S.T @ Winv @ S, S.T @ Winv)
        coherent = Y @ (S @ P).T
        bottom = wide
    out = pd.DataFrame(coherent, index=bottom.index, columns=pd.MultiIndex.from_frame(nodes))
    out = out.stack(["level", "unique_id"], future_stack=True).rename(value).reset_index()
    out = out[["level", "unique_id", "ds", value]]
    return out.sort_values(["level", "unique_id", "ds"], key=_level_key).reset_index(drop=True)
