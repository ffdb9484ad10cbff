"""Follow-up (step 6): accuracy by lag, value add, bias, adherence, service, decisions and alerts.

A synthetic multi-period `out` folder (six earlier cycles, some with a plan of record) is built in a tmp
folder; every figure is checked against an independent pandas computation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from salesops import followup
from salesops.exceptions import ParameterError
from salesops.params import AlertParams, Decision, load
from salesops.store import StepStore

PERIOD = "2026-11"
CYCLES = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
RECORDED = {"2026-06", "2026-08"}  # cycles with an approved plan of record
HORIZON = 4
FAMILIES = {"A1": "Alpha", "A2": "Alpha", "B1": "Beta", "B2": "Beta"}


def _history() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    months = pd.date_range("2024-11-01", "2026-10-01", freq="MS")
    rows = []
    for sku in FAMILIES:
        start = pd.Timestamp("2026-02-01") if sku == "B2" else months[0]  # B2: too young for a seasonal naive
        for m in months[months >= start]:
            rows.append({"unique_id": sku, "ds": m, "y": float(rng.integers(20, 120))})
    return pd.DataFrame(rows)


def _plan(history: pd.DataFrame, cycle: str, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.date_range(f"{cycle}-01", periods=HORIZON, freq="MS")
    level = history.groupby("unique_id")["y"].mean()
    rows = []
    for sku, family in FAMILIES.items():
        for m in months:
            statistical = level[sku] * rng.uniform(0.8, 1.2)
            rows.append(
                {
                    "unique_id": sku,
                    "family": family,
                    "ds": m,
                    "statistical": statistical,
                    "pipeline": 0.0,
                    "consensus": statistical * rng.uniform(0.9, 1.3) + shift,
                    "yhat_lo_80": 0.0,
                    "yhat_hi_80": 0.0,
                }
            )
    return pd.DataFrame(rows)


def _projection(plan: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    proj = plan.rename(columns={"ds": "month", "consensus": "demand"})
    proj = proj[["unique_id", "family", "month", "demand"]]
    proj = proj.assign(
        supply=rng.uniform(0, 60, len(proj)).round(), production=0.0, safety_stock=10.0, weeks_of_supply=4.0
    )
    available = rng.uniform(0, 150, len(proj)).round()  # opening stock + receipts
    proj["on_hand"] = np.maximum(available - proj["demand"], 0)
    proj["shortage"] = np.maximum(proj["demand"] - available, 0)
    proj["excess"] = 0.0
    return proj


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    history = _history()
    plans, projections = {}, {}
    for i, cycle in enumerate(CYCLES):
        proposed = _plan(history, cycle, seed=i)
        store = StepStore(out / cycle)
        store.write("demand_planning", "demand_plan", proposed)
        projections[cycle] = _projection(proposed, seed=100 + i)
        store.write("supply_planning", "inventory_projection", projections[cycle])
        production = pd.DataFrame(
            [
                {
                    "strategy": s,
                    "family": f,
                    "month": m,
                    "demand": 0.0,
                    "production": 100.0 * (k + 1) + i,
                    "inventory": 0.0,
                    "backlog": 0.0,
                }
                for k, s in enumerate(["chase", "optimal"])
                for f in ("Alpha", "Beta")
                for m in pd.date_range(f"{cycle}-01", periods=HORIZON, freq="MS")
            ]
        )
        store.write("supply_planning", "production_plan", production)
        plans[cycle] = proposed
        if cycle in RECORDED:  # the approved plan differs from the proposal: it must win
            approved = _plan(history, cycle, seed=50 + i, shift=5.0)
            (out / "plans" / cycle).mkdir(parents=True)
            approved.assign(period=cycle).to_parquet(out / "plans" / cycle / "plan.parquet")
            (out / "plans" / cycle / "plan.json").write_text(
                json.dumps(
                    {
                        "approved_by": "CEO",
                        "decisions": [
                            {
                                "id": f"D-{cycle}",
                                "title": "Second shift",
                                "owner": "Ops",
                                "due": f"{cycle}-20",
                            }
                        ],
                    }
                )
            )
            plans[cycle] = approved
    # receipts recorded from 2026-08 on: Alpha SKUs are made in house, Beta SKUs bought
    supply = pd.DataFrame(
        [
            {"sku": sku, "month": m, "quantity": 40.0, "kind": "production" if sku[0] == "A" else "purchase"}
            for sku in FAMILIES
            for m in pd.date_range("2026-08-01", "2026-12-01", freq="MS")
        ]
    )
    return {"out": out, "history": history, "plans": plans, "projections": projections, "supply": supply}


def _expected_accuracy(scenario) -> pd.DataFrame:
    """Independent: lag from pandas Periods, the naive from a shifted lookup, metrics written out."""
    history = scenario["history"]
    y = history.set_index(["unique_id", history["ds"].dt.to_period("M")])["y"]
    rows = []
    for cycle, plan in scenario["plans"].items():
        made = pd.Period(cycle, "M")
        for r in plan.itertuples():
            target = pd.Timestamp(r.ds).to_period("M")
            if target >= pd.Period(PERIOD, "M"):
                continue
            same_month_last_year = (r.unique_id, target - 12)
            if same_month_last_year in y.index:
                naive = y[same_month_last_year]
            else:  # last value before the cycle
                before = history[(history.unique_id == r.unique_id) & (history.ds < made.to_timestamp())]
                naive = before["y"].iloc[-1]
            rows.append(
                {
                    "period": cycle,
                    "lag": (target - made).n + 1,
                    "family": r.family,
                    "actual": y[(r.unique_id, target)],
                    "consensus": r.consensus,
                    "statistical": r.statistical,
                    "naive": naive,
                }
            )
    frame = pd.DataFrame(rows)
    frame = pd.concat([frame, frame.assign(family="Total")])
    frame["abs_err"] = (frame.consensus - frame.actual).abs()
    frame["err"] = frame.consensus - frame.actual
    frame["ape"] = frame.abs_err / frame.actual
    frame["abs_err_stat"] = (frame.statistical - frame.actual).abs()
    frame["abs_err_naive"] = (frame.naive - frame.actual).abs()
    g = frame.groupby(["period", "lag", "family"])
    out = pd.DataFrame(
        {
            "wape": g.abs_err.sum() / g.actual.sum(),
            "bias": g.err.sum() / g.actual.sum(),
            "mape": g.ape.mean(),
            "wape_statistical": g.abs_err_stat.sum() / g.actual.sum(),
            "wape_naive": g.abs_err_naive.sum() / g.actual.sum(),
        }
    )
    return out.reset_index()


@pytest.fixture(scope="module")
def past(scenario):
    return followup.load_past_plans(scenario["out"], PERIOD, "optimal")


@pytest.fixture(scope="module")
def scored(scenario, past):
    return followup.scored_forecasts(past, scenario["history"], PERIOD)


def test_plan_of_record_wins_and_sources_are_named(scenario, past):
    sources = past.sources.set_index("period")
    assert list(sources.index) == CYCLES
    for cycle in CYCLES:
        assert sources.loc[cycle, "source"] == ("plan_of_record" if cycle in RECORDED else "proposed")
    recorded = past.demand[past.demand.period == "2026-06"].sort_values(["unique_id", "ds"])
    expected = scenario["plans"]["2026-06"].sort_values(["unique_id", "ds"])
    np.testing.assert_allclose(recorded["consensus"], expected["consensus"])


def test_accuracy_by_lag_matches_independent_pandas(scenario, scored):
    acc = followup.accuracy_by_lag(scored)
    expected = _expected_accuracy(scenario)
    merged = expected.merge(acc, on=["period", "lag", "family"], suffixes=("_expected", ""), validate="1:1")
    assert len(merged) == len(expected) == len(acc)
    for col in ("wape", "bias", "mape", "wape_statistical", "wape_naive"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_expected"], rtol=1e-12, err_msg=col)
    # lag 3 made in 2026-08 is scored at 2026-10; a 2026-10 cycle only has lag 1 scored
    row = acc[(acc.period == "2026-08") & (acc.lag == 3) & (acc.family == "Total")].iloc[0]
    assert row["month"] == pd.Timestamp("2026-10-01")
    assert set(acc[acc.period == "2026-10"]["lag"]) == {1}
    assert set(acc[acc.period == "2026-05"]["lag"]) == {1, 2, 3, 4}


def test_value_add_is_the_wape_differences(scored):
    acc = followup.accuracy_by_lag(scored)
    va = followup.value_add(acc)
    total = acc[acc.family == "Total"].reset_index(drop=True)
    np.testing.assert_allclose(va["statistical_vs_naive"], total["wape_naive"] - total["wape_statistical"])
    np.testing.assert_allclose(va["consensus_vs_statistical"], total["wape_statistical"] - total["wape"])


def test_trend_keeps_the_last_months_and_lags(scored):
    acc = followup.accuracy_by_lag(scored)
    trend = followup.accuracy_trend(acc, months=3)
    assert sorted(trend["month"].unique()) == list(pd.date_range("2026-08-01", periods=3, freq="MS"))
    assert set(trend["lag"]) == {1, 3}
    np.testing.assert_allclose(trend["accuracy"], (1 - trend["wape"]).clip(lower=0))


def test_tracking_signal_per_family_matches_hand_formula(scenario, scored):
    bias = followup.bias_by_family(scored, window=4).set_index("family")
    lag1 = []
    for cycle, plan in scenario["plans"].items():
        rows = plan[plan.ds == pd.Timestamp(f"{cycle}-01")]
        lag1.append(rows.merge(scenario["history"], on=["unique_id", "ds"]))
    lag1 = pd.concat(lag1)
    lag1 = lag1[lag1.ds >= "2026-07-01"]  # the last 4 months
    for family in ("Alpha", "Beta"):
        monthly = lag1[lag1.family == family].groupby("ds")[["consensus", "y"]].sum()
        e = monthly.consensus - monthly.y
        assert bias.loc[family, "months"] == 4
        assert bias.loc[family, "tracking_signal"] == pytest.approx(e.sum() / e.abs().mean())
        assert bias.loc[family, "bias"] == pytest.approx(e.sum() / monthly.y.sum())


def _scored_by_hand(errors: list[float], actual: float = 100.0) -> pd.DataFrame:
    months = pd.date_range("2026-01-01", periods=len(errors), freq="MS")
    return pd.DataFrame(
        {
            "period": [m.strftime("%Y-%m") for m in months],
            "month": months,
            "lag": 1,
            "unique_id": "A1",
            "family": "Alpha",
            "source": "proposed",
            "actual": actual,
            "consensus": [actual + e for e in errors],
            "statistical": actual,
            "naive": actual,
        }
    )


def _kinds(frame: pd.DataFrame) -> set[str]:
    return set(frame["kind"])


def test_tracking_signal_alert_fires_just_above_the_limit():
    scored = _scored_by_hand([10, 10, 10, 10, 10])  # every month over: signal = 5
    bias = followup.bias_by_family(scored)
    assert bias.set_index("family").loc["Alpha", "tracking_signal"] == pytest.approx(5.0)
    empty = followup.decision_log([], PERIOD)
    fired = followup.alerts(
        followup.accuracy_by_lag(scored).iloc[0:0],
        bias,
        pd.DataFrame(),
        empty,
        AlertParams(tracking_signal_limit=4.99),
    )
    silent = followup.alerts(
        followup.accuracy_by_lag(scored).iloc[0:0],
        bias,
        pd.DataFrame(),
        empty,
        AlertParams(tracking_signal_limit=5.0),
    )
    assert set(fired["subject"]) == {"Alpha", "Total"} and _kinds(fired) == {"tracking_signal"}
    assert silent.empty and list(silent.columns) == followup.ALERT_COLUMNS
    assert "over-forecasting" in fired["message"].iloc[0]


def test_accuracy_drop_alert_compares_with_the_previous_cycles():
    # WAPE 10%, 10%, 10%, then 25%: accuracy dropped 15 points vs the previous three months
    # (the alert holds fractions: 15 points is 0.15, the threshold 14.9 points is 0.149)
    scored = _scored_by_hand([10, -10, 10, 25])
    acc = followup.accuracy_by_lag(scored)
    no_bias = followup.bias_by_family(scored).iloc[0:0]
    empty = followup.decision_log([], PERIOD)
    fired = followup.alerts(acc, no_bias, pd.DataFrame(), empty, AlertParams(accuracy_drop_pct=14.9))
    silent = followup.alerts(acc, no_bias, pd.DataFrame(), empty, AlertParams(accuracy_drop_pct=15.1))
    assert fired["threshold"].iloc[0] == pytest.approx(14.9 / 100)
    assert _kinds(fired) == {"accuracy_drop"} and fired["value"].iloc[0] == pytest.approx(15.0 / 100)
    assert silent.empty
    # a baseline of one cycle: 25% vs 10% is the same 15 points
    one = followup.alerts(
        acc, no_bias, pd.DataFrame(), empty, AlertParams(accuracy_drop_pct=14.9, baseline_cycles=1)
    )
    assert len(one) == len(fired)


def test_service_alert_fires_below_target_only():
    service = pd.DataFrame(
        {"month": pd.to_datetime(["2026-09-01", "2026-10-01"]), "family": "Total", "fill_rate": [0.5, 0.9]}
    )
    empty = followup.decision_log([], PERIOD)
    no_bias = pd.DataFrame(columns=followup.BIAS_COLUMNS)
    no_acc = pd.DataFrame(columns=followup.ACCURACY_COLUMNS)
    assert followup.alerts(no_acc, no_bias, service, empty, AlertParams(service_target=0.9)).empty
    fired = followup.alerts(no_acc, no_bias, service, empty, AlertParams(service_target=0.91))
    expected = [["error", "service", 0.9, 0.91]]
    assert fired[["severity", "kind", "value", "threshold"]].values.tolist() == expected


def test_overdue_decisions_and_their_alert():
    decisions = [
        Decision(id="D1", title="Add a shift", owner="Ops", due="2026-10-31"),
        Decision(id="D2", title="Raise prices", owner="CFO", due="2026-11-01"),
        Decision(id="D3", title="Drop SKU", owner="PM", due="2026-09-01", status="done"),
    ]
    log = followup.decision_log(decisions, PERIOD).set_index("id")
    assert log["overdue"].to_dict() == {"D1": True, "D2": False, "D3": False}
    assert log["state"].to_dict() == {"D1": "overdue", "D2": "open", "D3": "done"}
    assert log.loc["D1", "days_overdue"] == 1
    no_bias = pd.DataFrame(columns=followup.BIAS_COLUMNS)
    no_acc = pd.DataFrame(columns=followup.ACCURACY_COLUMNS)
    fired = followup.alerts(no_acc, no_bias, pd.DataFrame(), log.reset_index(), AlertParams())
    assert fired[["kind", "subject"]].values.tolist() == [["overdue_decision", "D1"]]
    assert followup.alerts(
        no_acc, no_bias, pd.DataFrame(), log.reset_index(), AlertParams(overdue_decisions=False)
    ).empty


def test_decisions_merge_plans_params_files_and_current(scenario, tmp_path):
    params_dir = tmp_path / "params"
    params_dir.mkdir()
    (params_dir / "default.yaml").write_text("company: Test\n")
    (params_dir / "2026-09.yaml").write_text(
        yaml.safe_dump(
            {
                "decisions": [
                    {
                        "id": "D-2026-06",
                        "title": "Second shift",
                        "owner": "Ops",
                        "due": "2026-06-20",
                        "status": "done",
                    },
                    {"id": "D9", "title": "New supplier", "owner": "Buyer", "due": "2026-12-01"},
                ]
            }
        )
    )
    (params_dir / f"{PERIOD}.yaml").write_text(
        yaml.safe_dump(
            {"decisions": [{"id": "D9", "title": "New supplier", "owner": "Buyer", "due": "2026-10-15"}]}
        )
    )
    p = load(period=PERIOD, params_dir=params_dir, out=scenario["out"])
    log = followup.decision_log(followup.collect_decisions(p), PERIOD).set_index("id")
    assert sorted(log.index) == ["D-2026-06", "D-2026-08", "D9"]
    assert log.loc["D-2026-06", "status"] == "done"  # closed in a later params file
    assert log.loc["D-2026-06", "period"] == "2026-06"  # taken in the plan's period
    assert bool(log.loc["D-2026-08", "overdue"])  # still open from the 2026-08 plan
    assert log.loc["D9", "due"] == pd.Timestamp("2026-10-15")  # the current params win
    assert log.loc["D9", "period"] == "2026-09"
    (params_dir / "2026-10.yaml").write_text(yaml.safe_dump({"decisions": [{"id": "X", "title": "t"}]}))
    with pytest.raises(ParameterError, match=r"2026-10.yaml \(decisions\): key 'owner' is required"):
        followup.collect_decisions(p)


def test_adherence_uses_each_cycles_first_month(scenario, past):
    products = pd.DataFrame({"sku": list(FAMILIES), "family": list(FAMILIES.values())})
    adherence = followup.plan_adherence(past, scenario["history"], scenario["supply"], products, PERIOD)
    demand = adherence[adherence.measure == "demand"].set_index(["month", "family"])
    plan = scenario["plans"]["2026-08"]
    rows = plan[plan.ds == "2026-08-01"].merge(scenario["history"], on=["unique_id", "ds"])
    alpha = rows[rows.family == "Alpha"]
    august = (pd.Timestamp("2026-08-01"), "Alpha")
    assert demand.loc[august, "planned"] == pytest.approx(alpha.consensus.sum())
    assert demand.loc[august, "actual"] == pytest.approx(alpha.y.sum())
    supply = adherence[adherence.measure == "supply"].set_index(["month", "family"])
    proj = scenario["projections"]["2026-09"]
    planned_beta = proj[(proj.month == "2026-09-01") & (proj.family == "Beta")]["supply"].sum()
    assert supply.loc[(pd.Timestamp("2026-09-01"), "Beta"), "planned"] == pytest.approx(planned_beta)
    assert supply.loc[(pd.Timestamp("2026-09-01"), "Beta"), "actual"] == pytest.approx(80.0)
    # the supply table records receipts from 2026-08 on: earlier months are not compared
    assert supply.index.get_level_values(0).min() == pd.Timestamp("2026-08-01")
    production = adherence[adherence.measure == "production"].set_index(["month", "family"])
    # the optimal strategy of cycle 2026-10 (index 5): 200 + 5; Alpha produced 2 SKUs x 40
    assert production.loc[(pd.Timestamp("2026-10-01"), "Alpha"), "planned"] == 205.0
    assert production.loc[(pd.Timestamp("2026-10-01"), "Alpha"), "actual"] == 80.0
    assert set(production.index.get_level_values(1)) == {"Alpha", "Beta"}


def test_service_fill_rate_from_available_stock(scenario, past):
    service = followup.service_levels(past, scenario["history"], scenario["supply"], PERIOD)
    # independent: available = on_hand - shortage + demand, receipts replaced by the supply table's
    proj = scenario["projections"]["2026-09"]
    rows = proj[proj.month == "2026-09-01"].merge(
        scenario["history"].rename(columns={"ds": "month"}), on=["unique_id", "month"]
    )
    available = (rows.on_hand - rows.shortage + rows.demand - rows.supply + 40.0).clip(lower=0)
    filled = np.minimum(rows.y, available)
    total = service[(service.month == "2026-09-01") & (service.family == "Total")].iloc[0]
    assert total["fill_rate"] == pytest.approx(filled.sum() / rows.y.sum())
    assert total["service_level"] == pytest.approx((rows.y <= available).mean())
    # before 2026-08 the supply table has no rows: the planned receipts stand
    proj = scenario["projections"]["2026-06"]
    rows = proj[proj.month == "2026-06-01"].merge(
        scenario["history"].rename(columns={"ds": "month"}), on=["unique_id", "month"]
    )
    available = rows.on_hand - rows.shortage + rows.demand
    total = service[(service.month == "2026-06-01") & (service.family == "Total")].iloc[0]
    assert total["fill_rate"] == pytest.approx(np.minimum(rows.y, available).sum() / rows.y.sum())


def test_inventory_vs_target(scenario, past):
    inventory = pd.DataFrame(
        {
            "sku": ["A1", "A2", "B1", "B2"],
            "on_hand": [5.0, 50.0, 30.0, 0.0],
            "safety_stock": [10.0, 10.0, 10.0, 10.0],
        }
    )
    products = pd.DataFrame({"sku": list(FAMILIES), "family": list(FAMILIES.values())})
    inv = followup.inventory_vs_target(inventory, products, past, PERIOD).set_index("family")
    assert inv.loc["Alpha", "on_hand"] == 55 and inv.loc["Alpha", "skus_below_target"] == 1
    assert inv.loc["Total", "vs_target"] == 85 - 40
    proj = scenario["projections"]["2026-10"]
    planned = proj[(proj.month == "2026-10-01") & (proj.family == "Beta")]["on_hand"].sum()
    assert inv.loc["Beta", "planned_on_hand"] == pytest.approx(planned)


def test_first_run_has_empty_frames_with_columns(tmp_path):
    plans = followup.load_past_plans(tmp_path, PERIOD)
    assert plans.sources.empty and list(plans.sources.columns) == followup.SOURCE_COLUMNS
    scored = followup.scored_forecasts(plans, _history(), PERIOD)
    acc = followup.accuracy_by_lag(scored)
    assert acc.empty and list(acc.columns) == followup.ACCURACY_COLUMNS
    assert list(followup.value_add(acc).columns) == followup.VALUE_ADD_COLUMNS
    assert list(followup.bias_by_family(scored).columns) == followup.BIAS_COLUMNS
    assert list(followup.service_levels(plans, _history(), None, PERIOD).columns) == followup.SERVICE_COLUMNS
    adherence = followup.plan_adherence(plans, _history(), None, None, PERIOD)
    assert list(adherence.columns) == followup.ADHERENCE_COLUMNS


def test_seasonal_naive_uses_only_history_before_the_cycle():
    history = pd.DataFrame(
        {
            "unique_id": "S",
            "ds": pd.date_range("2025-01-01", "2026-06-01", freq="MS"),
            "y": np.arange(18, dtype=float),
        }
    )
    plans = pd.DataFrame(
        {
            "period": "2026-03",
            "unique_id": ["S", "S", "S", "N"],
            "ds": pd.to_datetime(["2026-03-01", "2027-03-01", "2027-04-01", "2026-03-01"]),
        }
    )
    naive = followup.seasonal_naive(history, plans, season_length=12)
    # 2026-03 <- 2025-03 (y=2); 2027-03 <- 2025-03 (2026-03 is not before the cycle);
    # 2027-04 <- 2025-04 (3); an unknown series forecasts 0
    assert naive.tolist() == [2.0, 2.0, 3.0, 0.0]


def _current_run(out, scenario) -> Path:
    """The current period's snapshot, in a build folder as the runner makes it."""
    run_dir = out / ".build" / f"{PERIOD}-test"
    store = StepStore(run_dir)
    store.write("data_collection", "demand_history", scenario["history"])
    store.write(
        "data_collection",
        "products",
        pd.DataFrame(
            {"sku": list(FAMILIES), "family": list(FAMILIES.values()), "unit_price": 10.0, "unit_cost": 5.0}
        ),
    )
    store.write("data_collection", "supply", scenario["supply"])
    store.write(
        "data_collection",
        "inventory",
        pd.DataFrame({"sku": list(FAMILIES), "on_hand": [5.0, 50.0, 30.0, 0.0], "safety_stock": 10.0}),
    )
    return run_dir


def test_run_of_a_build_folder_finds_the_published_periods(scenario, tmp_path):
    from salesops.steps import context

    run_dir = _current_run(scenario["out"], scenario)
    params = tmp_path / "params.yaml"
    params.write_text(
        yaml.safe_dump(
            {"alerts": {"tracking_signal_limit": 100, "accuracy_drop_pct": 1000, "service_target": 0.01}}
        )
    )
    p = load(period=PERIOD, params=params, out=scenario["out"], run_dir=run_dir)
    fu = followup.run(context("follow_up", p))
    assert not fu.first_run and list(fu.sources["period"]) == CYCLES
    expected = _expected_accuracy(scenario)
    assert len(fu.accuracy_by_lag) == len(expected)
    # only the two decisions of the plans of record are open and overdue: the loosened thresholds hold
    assert fu.alerts[["kind", "subject"]].values.tolist() == [
        ["overdue_decision", "D-2026-06"],
        ["overdue_decision", "D-2026-08"],
    ]
    assert set(fu.products) >= {"alerts", "accuracy_by_lag", "decision_log"}


def test_run_returns_exactly_the_declared_products(scenario, tmp_path):
    from salesops import steps

    run_dir = _current_run(tmp_path / "out", scenario)  # a first run: no earlier cycle
    params = tmp_path / "params" / "default.yaml"  # hermetic: not the repository's params/
    params.parent.mkdir()
    params.write_text("company: Test\n")
    p = load(period=PERIOD, params=params, out=tmp_path / "out", run_dir=run_dir)
    fu = followup.run(steps.context("follow_up", p))
    assert isinstance(fu, steps.StepResult) and fu.first_run
    assert list(fu.products) == list(steps.get("follow_up").products)
    assert all(isinstance(frame, pd.DataFrame) for frame in fu.products.values())


@pytest.mark.slow
@pytest.mark.parametrize("first_run", [False, True])
def test_notebook_runs_with_and_without_past_cycles(scenario, tmp_path, first_run):
    from pathlib import Path

    import nbformat
    import papermill as pm

    out = tmp_path / "out" if first_run else scenario["out"]
    run_dir = _current_run(out, scenario)
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "06_follow_up.ipynb"
    executed = tmp_path / "06.ipynb"
    params = tmp_path / "params" / "default.yaml"  # hermetic: not the repository's params/
    params.parent.mkdir()
    params.write_text(
        yaml.safe_dump(
            {"decisions": [{"id": "D1", "title": "Hire a planner", "owner": "COO", "due": "2026-12-15"}]}
        )
    )
    pm.execute_notebook(
        str(notebook),
        str(executed),
        progress_bar=False,
        kernel_name="python3",
        parameters={"period": PERIOD, "params": str(params), "out": str(out), "run_dir": str(run_dir)},
    )
    alerts = pd.read_parquet(run_dir / "data" / "follow_up" / "alerts.parquet")
    accuracy = pd.read_parquet(run_dir / "data" / "follow_up" / "accuracy_by_lag.parquet")
    log = pd.read_parquet(run_dir / "data" / "follow_up" / "decision_log.parquet")
    assert list(alerts.columns) == followup.ALERT_COLUMNS
    assert list(accuracy.columns) == followup.ACCURACY_COLUMNS
    assert list(log.columns) == followup.DECISION_COLUMNS
    text = "\n".join(
        str(o.get("data", {}).get("text/plain", ""))
        for c in nbformat.read(executed, 4).cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    if first_run:
        assert accuracy.empty and alerts.empty
        assert log[["id", "state"]].values.tolist() == [["D1", "open"]]
        assert "follow-up starts after the first cycle" in text
    else:
        assert len(accuracy) == len(_expected_accuracy(scenario))
        assert "overdue_decision" in set(alerts["kind"])
        assert "alert(s) fired" in text


def test_unreadable_or_incomplete_plans_name_the_file(tmp_path):
    from salesops.exceptions import DataError

    broken = tmp_path / "2026-09" / "data" / "demand_planning" / "demand_plan.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_text("not parquet")
    with pytest.raises(DataError, match=r"2026-09/data/demand_planning/demand_plan.parquet: cannot read"):
        followup.load_past_plans(tmp_path, PERIOD)
    pd.DataFrame({"unique_id": ["A"], "ds": [pd.Timestamp("2026-09-01")]}).to_parquet(broken)
    with pytest.raises(DataError, match=r"demand_plan.parquet: column\(s\) consensus missing"):
        followup.load_past_plans(tmp_path, PERIOD)


def test_trend_table_puts_lags_side_by_side(scored):
    trend = followup.accuracy_trend(followup.accuracy_by_lag(scored))
    wide = followup.trend_table(trend).set_index("month")
    row = trend[(trend.lag == 3) & (trend.month == "2026-09-01")].iloc[0]
    assert wide.loc[pd.Timestamp("2026-09-01"), "accuracy_lag3"] == row["accuracy"]
    assert wide.loc[pd.Timestamp("2026-09-01"), "bias_lag3"] == row["bias"]
    assert np.isnan(wide.loc[pd.Timestamp("2026-05-01"), "accuracy_lag3"])  # no cycle made it 2 months ahead


def test_demo_company_cycles_scored_against_independent_pandas(tmp_path):
    """Eight monthly cycles on the demo company's sales, each planning 6 months from the history it
    had; lag-1 and lag-3 WAPE and bias per family recomputed with pandas Periods."""
    from salesops.data.demo import generate_demo
    from salesops.data.snapshot import demand_history

    tables = generate_demo(skus=40, months=36)
    sales = tables["sales"].assign(date=pd.to_datetime(tables["sales"]["date"]))
    sales["month"] = sales["date"].dt.to_period("M").dt.to_timestamp()
    family = tables["products"].set_index("sku")["family"]
    rng = np.random.default_rng(3)
    cycles = [str(c) for c in pd.period_range("2026-03", "2026-10", freq="M")]
    plans = []
    for cycle in cycles:
        history = demand_history(sales, pd.Timestamp(f"{cycle}-01"))
        recent = history[history.ds >= history.ds.max() - pd.DateOffset(months=2)]
        level = recent.groupby("unique_id")["y"].mean()
        months = pd.date_range(f"{cycle}-01", periods=6, freq="MS")
        plan = pd.DataFrame([(u, m) for u in level.index for m in months], columns=["unique_id", "ds"])
        plan["family"] = plan["unique_id"].map(family)
        plan["statistical"] = plan["unique_id"].map(level) * rng.uniform(0.7, 1.3, len(plan))
        plan["consensus"] = plan["statistical"] * 1.1
        StepStore(tmp_path / cycle).write("demand_planning", "demand_plan", plan)
        plans.append(plan.assign(cycle=pd.Period(cycle, "M")))
    actuals = demand_history(sales, pd.Timestamp(f"{PERIOD}-01"))
    past = followup.load_past_plans(tmp_path, PERIOD)
    acc = followup.accuracy_by_lag(followup.scored_forecasts(past, actuals, PERIOD))

    both = pd.concat(plans).merge(actuals, on=["unique_id", "ds"])
    both["lag"] = [(pd.Period(d, "M") - c).n + 1 for d, c in zip(both["ds"], both["cycle"])]
    for lag in (1, 3):
        rows = both[both["lag"] == lag]
        by = (
            rows.assign(abs_err=(rows.consensus - rows.y).abs(), err=rows.consensus - rows.y)
            .groupby(["cycle", "family"])[["abs_err", "err", "y"]]
            .sum()
        )
        got = acc[acc["lag"] == lag].set_index(["period", "family"])
        assert len(by) == (got.index.get_level_values("family") != "Total").sum()
        for (cycle, fam), r in by.iterrows():
            assert got.loc[(str(cycle), fam), "wape"] == pytest.approx(r.abs_err / r.y)
            assert got.loc[(str(cycle), fam), "bias"] == pytest.approx(r.err / r.y)
    # lag 3 exists for the cycles whose third month is before the period: 2026-03 .. 2026-08
    assert sorted(acc[acc.lag == 3]["period"].unique()) == cycles[:6]


def test_decisions_carried_out_late_are_told_apart_from_those_on_time():
    on_time = Decision(
        id="A", title="Add a shift", owner="Ops", due="2026-10-15", status="done", done_on="2026-10-14"
    )
    late = Decision(
        id="B", title="Price list", owner="Sales", due="2026-10-15", status="done", done_on="2026-10-27"
    )
    log = followup.decision_log([on_time, late], "2026-11").set_index("id")
    assert log.loc["A", "state"] == "done" and log.loc["A", "days_late"] == 0
    assert log.loc["B", "state"] == "done late" and log.loc["B", "days_late"] == 12
    assert log.index.tolist() == ["B", "A"]  # late before on time
