"""The project's own files: notebooks committed clean and thin, environment.yml in step with pyproject."""

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONDA_NAMES = {"duckdb": "python-duckdb", "dask[distributed]": "dask"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;]", requirement, maxsplit=1)[0].strip().lower()


def test_seven_notebooks():
    assert [n.name for n in NOTEBOOKS] == [
        "01_data_collection.ipynb",
        "02_demand_planning.ipynb",
        "03_supply_planning.ipynb",
        "04_pre_sop.ipynb",
        "05_executive_review.ipynb",
        "06_follow_up.ipynb",
        "07_sales_performance.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_clean_and_thin(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") for c in code), f"{path.name} has outputs: clear them before committing"
    assert all(c.get("execution_count") is None for c in code), f"{path.name} has execution counts"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    source = "\n".join("".join(c["source"]) for c in code)
    for banned in (r"^\s*def ", r"^\s*class ", r"sys\.path", r"filterwarnings", r"%%capture"):
        assert not re.search(banned, source, re.MULTILINE), f"{path.name}: '{banned}' belongs in the package"
    assert "so.params.load(" in source, f"{path.name} must validate its parameters with so.params.load"


def test_environment_yml_names_the_pyproject_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {_name(r) for r in project["dependencies"] + extras["test"] + extras["docs"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = set()
    for dep in env["dependencies"]:
        for item in dep["pip"] if isinstance(dep, dict) else [dep]:
            listed.add(_name(item))
    expected = {CONDA_NAMES.get(n, n) for n in wanted}
    assert expected - listed == set(), f"environment.yml lacks {sorted(expected - listed)}"
