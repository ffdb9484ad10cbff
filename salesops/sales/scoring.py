"""Opportunity scoring: a win-probability model on what is known when a deal is scored.

Training rows are deals as they stood at month starts: every deal open at a month's start (created
before it, not closed before it) is a row with what was known then: its stage (`as_of_start`), age,
amount, product, account sector and size, and its rep's win rate over the six months before. The label
is whether the deal was won. The model (a logistic regression, statsmodels) is evaluated out of time:
trained on deals closed before the last quarter before the period, tested on the deals closed in that
quarter, against the stage-only baseline (the same regression on the stage alone). It scores the open
pipeline only when it beats the baseline on the Brier score; otherwise the pipeline keeps the stage
probabilities, and the report says so ("no signal beyond stage").
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._frames import LOST, WON
from .pointintime import as_of_start, stage_bands

REP_WINDOW_MONTHS = 6
REP_PRIOR = 5.0  # closed deals' weight of the overall win rate in a rep's shrunk win rate
TEST_MONTHS = 3
MIN_ROWS = 30
EVALUATION_COLUMNS = [
    "model",
    "auc",
    "brier",
    "log_loss",
    "n_train",
    "n_test",
    "test_from",
    "test_to",
    "used",
]
NUMERIC = ("log_age", "log_amount", "log_employees", "rep_win_rate")
CATEGORIES = ("sku", "sector")


def _rep_win_rates(opps: pd.DataFrame, start: pd.Timestamp) -> pd.Series:
    window = opps.loc[
        opps["stage"].isin([WON, LOST])
        & (opps["close_date"] < start)
        & (opps["close_date"] >= start - pd.DateOffset(months=REP_WINDOW_MONTHS))
    ]
    overall = (window["stage"] == WON).mean() if len(window) else 0.5
    won = (window["stage"] == WON).groupby(window["rep"]).sum()
    closed = window.groupby("rep").size()
    return ((won + REP_PRIOR * overall) / (closed + REP_PRIOR)).rename("rep_win_rate"), overall


def features_at(
    opportunities: pd.DataFrame,
    start: pd.Timestamp,
    accounts: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    bands: pd.Series | None = None,
) -> pd.DataFrame:
    """The deals open at `start`, one row each, with what was known about them then.

    Columns `opportunity_id, stage, age_days, amount, sku, sector, employees, rep, rep_win_rate` plus
    `log_age, log_amount, log_employees`. The amount is what the CRM held then (unknown amounts:
    the SKU's mean won amount before `start`); the rep's win rate covers deals closed in the six months
    before `start`, shrunk towards the company's rate.

    Args:
        opportunities: The full opportunities table (normalised).
        start: The scoring day (a month's first day).
        accounts: The accounts table (`account`, optionally `sector`, `employees`), or None.
        history: The `opportunity_history` table, or None.
        bands: The stage bands (`stage_bands`); computed when None.

    Returns:
        One row per dated deal open at `start`.
    """
    view, _ = as_of_start(opportunities, start, history, bands)
    rows = view.loc[~view["stage"].isin([WON, LOST]) & view["created_date"].notna()].copy()
    rows["age_days"] = (start - rows["created_date"]).dt.days.astype(float)
    won = opportunities.loc[(opportunities["stage"] == WON) & (opportunities["close_date"] < start)]
    guess = rows["sku"].map(won.groupby("sku")["amount"].mean()).astype(float)
    rows["amount"] = rows["amount"].fillna(guess).fillna(won["amount"].mean() if len(won) else 0.0)
    rates, overall = _rep_win_rates(opportunities, start)
    rows["rep_win_rate"] = rows["rep"].map(rates).astype(float).fillna(overall)
    if accounts is not None and len(accounts) and "account" in rows.columns:
        info = accounts.drop_duplicates("account").set_index("account")
        for col in ("sector", "employees"):
            rows[col] = rows["account"].map(info[col]) if col in info.columns else np.nan
    else:
        rows["sector"], rows["employees"] = np.nan, np.nan
    rows["sector"] = rows["sector"].astype("string").fillna("(none)").astype(object)
    rows["sku"] = rows["sku"].astype("string").fillna("(none)").astype(object)
    rows["log_age"] = np.log1p(rows["age_days"].clip(lower=0))
    rows["log_amount"] = np.log1p(rows["amount"].clip(lower=0))
    employees = pd.to_numeric(rows["employees"], errors="coerce")
    rows["log_employees"] = np.log1p(employees.fillna(employees.median() if employees.notna().any() else 0))
    rows["start"] = start
    keep = ["opportunity_id", "start", "rep", "stage", "age_days", "amount", "sku", "sector", "employees"]
    return rows.loc[:, keep + ["rep_win_rate", "log_age", "log_amount", "log_employees"]].reset_index(
        drop=True
    )


def training_rows(
    opportunities: pd.DataFrame,
    first: pd.Timestamp,
    last: pd.Timestamp,
    accounts: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`features_at` at every month start from `first` to `last`, labelled with the outcome (`won`).

    Only deals that have closed (won or lost) are kept; `close_date` says when the label became known.

    Args:
        opportunities: The full opportunities table (normalised).
        first: The first month start.
        last: The last month start.
        accounts: The accounts table, or None.
        history: The `opportunity_history` table, or None.

    Returns:
        The feature rows plus `won` (1 or 0) and `close_date`.
    """
    if opportunities.empty or opportunities["created_date"].isna().all():
        return pd.DataFrame()
    bands = stage_bands(opportunities)
    outcome = opportunities.set_index("opportunity_id")
    frames = []
    for start in pd.date_range(first, last, freq="MS"):
        rows = features_at(opportunities, start, accounts, history, bands)
        final = rows["opportunity_id"].map(outcome["stage"])
        rows = rows.loc[final.isin([WON, LOST]).to_numpy()].copy()
        rows["won"] = (rows["opportunity_id"].map(outcome["stage"]) == WON).astype(float)
        rows["close_date"] = rows["opportunity_id"].map(outcome["close_date"])
        frames.append(rows)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


class _Design:
    """The design matrix of a fit: stage dummies, and for the full model numbers (standardised) and
    product and sector dummies; levels unseen in training fall to the reference level."""

    def __init__(self, train: pd.DataFrame, full: bool):
        self.stages = sorted(train["stage"].unique())
        self.full = full
        counts = {c: train[c].value_counts() for c in CATEGORIES} if full else {}
        # the most frequent level and rare ones (< MIN_ROWS rows) are the reference
        self.levels = {c: sorted(n.index[1:][n.iloc[1:] >= MIN_ROWS]) for c, n in counts.items()}
        self.mean = train[list(NUMERIC)].mean() if full else None
        self.std = train[list(NUMERIC)].std().replace(0, 1).fillna(1) if full else None

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        cols = [np.ones(len(frame))]
        cols += [(frame["stage"] == s).to_numpy(float) for s in self.stages[1:]]
        if self.full:
            z = (frame[list(NUMERIC)] - self.mean) / self.std
            cols += [z[c].fillna(0.0).to_numpy(float) for c in NUMERIC]
            for c, levels in self.levels.items():
                cols += [(frame[c] == v).to_numpy(float) for v in levels]
        return np.column_stack(cols)


def fit(train: pd.DataFrame, full: bool = True):
    """Fit the logistic regression (statsmodels GLM, binomial) on labelled feature rows.

    A fit that does not converge or separates perfectly is refitted with a light ridge penalty.

    Args:
        train: Rows from `training_rows`.
        full: All features (True) or the stage alone (the baseline).

    Returns:
        `predict(frame) -> probabilities`, with `.params` (the coefficients) and `.names`.
    """
    import statsmodels.api as sm

    design = _Design(train, full)
    x, y = design(train), train["won"].to_numpy(float)
    model = sm.GLM(y, x, family=sm.families.Binomial())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            params = np.asarray(model.fit().params)
            if not np.all(np.isfinite(params)) or np.abs(params).max() > 30:
                raise ValueError("separation")
        except Exception:  # noqa: BLE001 - singular or separated designs: ridge instead
            params = np.asarray(model.fit_regularized(alpha=1e-3, L1_wt=0.0).params)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        eta = design(frame) @ params
        return 1.0 / (1.0 + np.exp(-np.clip(eta, -30, 30)))

    names = ["intercept"] + [f"stage={s}" for s in design.stages[1:]]
    if full:
        names += list(NUMERIC) + [f"{c}={v}" for c, levels in design.levels.items() for v in levels]
    predict.params = pd.Series(params, index=names)
    predict.names = names
    return predict


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half).

    Args:
        y: Outcomes, 1 or 0.
        p: Predicted probabilities.

    Returns:
        The AUC, NaN when only one outcome occurs.

    Example:
        >>> auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
        0.75
    """
    y = np.asarray(y, dtype=float)
    ranks = pd.Series(np.asarray(p, dtype=float)).rank().to_numpy()
    n1, n0 = (y == 1).sum(), (y == 0).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def scores_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC, Brier score and log loss of probabilities `p` for outcomes `y`.

    Args:
        y: Outcomes, 1 or 0.
        p: Predicted probabilities.

    Returns:
        `{"auc", "brier", "log_loss"}`.
    """
    y = np.asarray(y, dtype=float)
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return {
        "auc": auc(y, q),
        "brier": float(np.mean((q - y) ** 2)),
        "log_loss": float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))),
    }


def evaluate(
    opportunities: pd.DataFrame,
    start: pd.Timestamp,
    lookback_months: int = 12,
    accounts: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series | None, str]:
    """Evaluate the win model out of time, and score the pipeline open at `start` when it earns it.

    Rows: deals open at each month start of the `lookback_months` before `start`. Test: the deals closed
    in the `TEST_MONTHS` months before `start`; train: the deals closed before those months. Both the
    full model and the stage-only baseline are fitted on the training rows and scored on the test rows.
    The full model is `used` when its Brier score is below the baseline's; it is then refitted on every
    deal closed before `start` and scores the deals open at `start`.

    Args:
        opportunities: The full opportunities table (normalised).
        start: The first day of the period.
        lookback_months: The months of month starts that give training rows.
        accounts: The accounts table, or None.
        history: The `opportunity_history` table, or None.

    Returns:
        `(evaluation, scores, why)`: the `EVALUATION_COLUMNS` table (rows `stage` and `features`),
        the scores by `opportunity_id` (None when the baseline is used), and a sentence saying which
        was used and why.
    """
    as_of = start - pd.Timedelta(days=1)
    test_from = start - pd.DateOffset(months=TEST_MONTHS)
    rows = training_rows(
        opportunities,
        start - pd.DateOffset(months=lookback_months),
        start - pd.DateOffset(months=1),
        accounts,
        history,
    )
    empty = pd.DataFrame(
        [
            {
                "model": m,
                "auc": np.nan,
                "brier": np.nan,
                "log_loss": np.nan,
                "n_train": 0,
                "n_test": 0,
                "test_from": test_from,
                "test_to": as_of,
                "used": m == "stage",
            }
            for m in ("stage", "features")
        ],
        columns=EVALUATION_COLUMNS,
    )
    if rows.empty:
        return empty, None, "stage probabilities used: no closed deals to learn a win model from"
    rows = rows.loc[rows["close_date"] <= as_of]
    train = rows.loc[rows["close_date"] < test_from]
    test = rows.loc[rows["close_date"] >= test_from]
    if (
        len(train) < MIN_ROWS
        or len(test) < MIN_ROWS
        or train["won"].nunique() < 2
        or test["won"].nunique() < 2
    ):
        empty["n_train"], empty["n_test"] = len(train), len(test)
        return (
            empty,
            None,
            (
                f"stage probabilities used: too few closed deals to test a win model out of time "
                f"({len(train)} training and {len(test)} test rows, at least {MIN_ROWS} each with wins and losses)"
            ),
        )
    out = []
    for name, full in (("stage", False), ("features", True)):
        model = fit(train, full)
        m = scores_metrics(test["won"].to_numpy(), model(test))
        out.append(
            {
                "model": name,
                **m,
                "n_train": len(train),
                "n_test": len(test),
                "test_from": test_from,
                "test_to": as_of,
            }
        )
    table = pd.DataFrame(out)
    base, model_row = table.iloc[0], table.iloc[1]
    used = bool(model_row["brier"] < base["brier"])
    table["used"] = [not used, used]
    span = f"{len(test):,} deal-months closed {test_from:%Y-%m-%d} to {as_of:%Y-%m-%d}"
    if not used:
        why = (
            f"no signal beyond stage: the win model's Brier score {model_row['brier']:.4f} does not beat the "
            f"stage-only {base['brier']:.4f} on {span}, so the pipeline keeps the stage probabilities"
        )
        return table.loc[:, EVALUATION_COLUMNS], None, why
    final = fit(rows, True)
    now = features_at(opportunities, start, accounts, history)
    scores = pd.Series(final(now), index=now["opportunity_id"]) if len(now) else pd.Series(dtype=float)
    why = (
        f"win model used: its Brier score {model_row['brier']:.4f} beats the stage-only {base['brier']:.4f} on "
        f"{span} (AUC {model_row['auc']:.2f} vs {base['auc']:.2f}); it scores the open pipeline"
    )
    return table.loc[:, EVALUATION_COLUMNS], scores, why
