"""Parameters: merged files, strict schema, readable messages (pinned)."""

from pathlib import Path

import pytest

from salesops import params
from salesops.exceptions import ParameterError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_period_file_overrides_default(tmp_path):
    write(tmp_path, "default.yaml", "company: Acme\ndemand:\n  horizon: 12\n  levels: [80]\n")
    write(tmp_path, "2026-11.yaml", "demand:\n  horizon: 6\n")
    p = params.load(period="2026-11", params_dir=tmp_path)
    assert (p.company, p.demand.horizon, p.demand.levels) == ("Acme", 6, [80])
    assert p.params_files == [str(tmp_path / "default.yaml"), str(tmp_path / "2026-11.yaml")]


def test_found_from_a_notebook_folder(monkeypatch):
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root / "notebooks")
    p = params.load(period="2026-11")
    assert p.params_files[0] == str(root / "params" / "default.yaml")
    assert p.run_path == root / "reports" / "2026-11"


def test_explicit_file_is_read_alone_without_the_period_file_beside_it(tmp_path):
    # issue 20: a company file placed in params/ must not inherit the demo period's file
    f = write(tmp_path, "mine.yaml", "supply:\n  service_level: 0.9\n")
    write(tmp_path, "2026-12.yaml", "supply:\n  service_level: 0.97\nexecutive:\n  approved_by: CEO\n")
    p = params.load(period="2026-12", params=f)
    assert (p.supply.service_level, p.executive.approved_by) == (0.9, None)
    assert p.params_files == [str(f)]


def test_named_files_layer_in_order(tmp_path):
    a = write(tmp_path, "acme.yaml", "company: Acme\nsupply:\n  service_level: 0.9\n  strategy: level\n")
    b = write(tmp_path, "acme-2026-11.yaml", "supply:\n  service_level: 0.97\n")
    p = params.load(period="2026-11", params=[a, b])
    assert (p.company, p.supply.service_level, p.supply.strategy) == ("Acme", 0.97, "level")
    assert p.params_files == [str(a), str(b)]
    assert params.params_files("2026-11", params=[a, b]) == [a, b]


def test_default_folder_reads_the_period_file_only_when_there(tmp_path):
    write(tmp_path, "default.yaml", "company: Acme\n")
    write(tmp_path, "2026-11.yaml", "company: Acme November\n")
    assert [f.name for f in params.params_files("2026-11", params_dir=tmp_path)] == [
        "default.yaml",
        "2026-11.yaml",
    ]
    assert [f.name for f in params.params_files("2026-12", params_dir=tmp_path)] == ["default.yaml"]
    assert [f.name for f in params.params_files(None, params_dir=tmp_path)] == ["default.yaml"]


def test_repository_defaults_are_valid():
    p = params.load(period="2026-11")
    assert p.data.source is None and p.demand.horizon == 18


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "demand:\n  horizn: 12\n",
            "{f}: unknown key 'demand.horizn'; did you mean 'horizon'? Remove or rename it.",
        ),
        (
            "demand:\n  horizon: twelve\n",
            (
                "{f}: key 'demand.horizon' = 'twelve' is invalid: Input should be a valid integer, unable to parse string "
                "as an integer."
            ),
        ),
        (
            "supply:\n  service_level: 1.5\n",
            "{f}: key 'supply.service_level' = 1.5 is invalid: Input should be less than 1.",
        ),
        (
            "demand:\n  levels: [80, 120]\n",
            (
                "{f}: key 'demand.levels' = [80, 120] is invalid: level 120 is not a percentage between 0 and 100 "
                "(e.g. 80 or 95)."
            ),
        ),
        (
            "colour: blue\n",
            (
                "{f}: unknown key 'colour'; known keys: alerts, company, currency, data, decisions, demand, demo, execution, executive, "
                "out, period, report, sales, scenarios, steps, supply. Remove or rename it."
            ),
        ),
        (
            "decisions:\n  - id: D1\n    title: Add a shift\n    due: 2026-12-01\n",
            "{f}: key 'decisions.0.owner' is required; add it.",
        ),
        (
            "demand: [1, 2\n",
            "{f} line 2, column 1: not valid YAML (expected ',' or ']', but got '<stream end>'); fix the syntax",
        ),
        ("- a\n- b\n", "{f}: the file must hold a mapping of keys (key: value), not list"),
    ],
)
def test_messages_name_file_key_and_fix(tmp_path, text, message):
    f = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ParameterError) as err:
        params.load(period="2026-11", params=f)
    assert str(err.value) == message.format(f=f)


def test_bad_period_is_refused():
    with pytest.raises(ParameterError, match=r"period: '2026-13' is not a month written YYYY-MM"):
        params.load(period="2026-13")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ParameterError, match="cannot read the params file"):
        params.load(period="2026-11", params=tmp_path / "nope.yaml")


def test_merge_is_deep():
    assert params.merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}, "d": 1}
