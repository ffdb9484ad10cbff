"""Products passed between steps keep the units their readers assume."""

import pandas as pd
import pytest

from salesops.demand.planning import error_stats
from salesops.executive import forecast_accuracy


def test_error_stats_wape_and_bias_are_fractions():
    bt = pd.DataFrame(
        {
            "unique_id": ["A"] * 4,
            "step": [1, 2, 1, 2],
            "y": [100.0, 100.0, 50.0, 50.0],
            "yhat": [110.0, 120.0, 40.0, 50.0],
        }
    )
    history = pd.DataFrame(
        {
            "unique_id": ["A"] * 24,
            "ds": pd.date_range("2024-01-01", periods=24, freq="MS"),
            "y": [float(i % 12 + 1) for i in range(24)],
        }
    )
    stats = error_stats(bt, history).set_index("unique_id")
    # |10| + |20| + |-10| + 0 = 40 over 300 actual; signed 10 + 20 - 10 + 0 = 20 over 300
    assert stats.loc["A", "wape"] == pytest.approx(40 / 300)
    assert stats.loc["A", "bias"] == pytest.approx(20 / 300)


def test_executive_accuracy_reads_fractions():
    stats = pd.DataFrame({"unique_id": ["A", "B"], "wape": [0.2, 0.4], "bias": [0.0, 0.0]})
    plan = pd.DataFrame({"unique_id": ["A", "B"], "consensus": [100.0, 100.0]})
    assert forecast_accuracy(stats, plan)["value"] == pytest.approx(0.7)
