"""What a new user hit following the guides (issue 20), each checked against its intended behaviour:
validate reads the period's params file and says which files and period it checked, overrides naming
unknown SKUs are warned about, progress lines carry the date and the period, `--quiet` silences a
backfill, a run in one format unpublishes the other format's stale reports, demo CSVs are readable
by other users, and the cron line's `logs/` folder exists on a fresh clone."""

from __future__ import annotations

import io
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from salesops import cli, runner
from salesops.data import write_demo
from salesops.params import unknown_overrides, validate

ROOT = Path(__file__).resolve().parents[1]
OVERRIDE = "{sku: %s, month: 2026-12, change_pct: 20, owner: Ana, reason: promotion}"


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    """A small demo company as CSV; its sales run through 2026-10."""
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, seed=5, skus=6, months=14, reps=4)
    return folder


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with its own params/: default.yaml and the 2026-11 file."""
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "default.yaml").write_text("company: Acme\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _validate(capsys, *args) -> tuple[int, list[str]]:
    code = cli.main(["validate", *map(str, args)])
    return code, capsys.readouterr().out.splitlines()


# ---------------------------------------------------------------- validate reads what run would
def test_validate_without_period_reads_the_period_file_of_the_default_period(project, demo_folder, capsys):
    (project / "params" / "2026-11.yaml").write_text("demand:\n  horizn: 24\n")  # a typo
    code = cli.main(["validate", "--data", str(demo_folder)])
    err = capsys.readouterr().err
    assert code == 2
    assert "2026-11.yaml: unknown key 'demand.horizn'; did you mean 'horizon'?" in err


def test_validate_prints_the_files_read_and_the_period_checked(project, demo_folder, capsys):
    (project / "params" / "2026-11.yaml").write_text("company: Acme November\n")
    code, lines = _validate(capsys, "--data", demo_folder)
    files = (
        f"{project.resolve() / 'params' / 'default.yaml'}, {project.resolve() / 'params' / '2026-11.yaml'}"
    )
    assert code == 0
    assert lines[:2] == [f"params: {files}", "period: 2026-11 (the month after the last sales month)"]
    code, lines = _validate(capsys, "--data", demo_folder, "--period", "2026-12")
    assert lines[:2] == [
        f"params: {project.resolve() / 'params' / 'default.yaml'}",
        "period: 2026-12 (given with --period)",
    ]


def test_validate_with_params_reads_that_file_alone(project, demo_folder, capsys):
    (project / "params" / "2026-11.yaml").write_text("demand:\n  horizn: 24\n")  # would fail if read
    mine = project / "params" / "acme.yaml"
    mine.write_text("company: Acme\n")
    code, lines = _validate(capsys, "--params", mine, "--data", demo_folder)
    assert code == 0 and lines[0] == f"params: {mine}"


def test_validate_warns_about_overrides_naming_unknown_skus(project, demo_folder, capsys):
    (project / "params" / "2026-11.yaml").write_text(
        "demand:\n  overrides:\n    - " + OVERRIDE % "SKU-001" + "\n    - " + OVERRIDE % "KET-1001" + "\n"
    )
    code, lines = _validate(capsys, "--data", demo_folder)
    warned = [line for line in lines if "demand.overrides" in line]
    assert code == 0
    assert len(warned) == 1 and warned[0].startswith("warning: demand.overrides.0: sku 'SKU-001' is not in")
    counts = re.fullmatch(r"(\d+) error\(s\), (\d+) warning\(s\)", lines[-1])
    assert int(counts.group(2)) == sum(line.startswith("warning: ") for line in lines)


def test_unknown_overrides_by_hand():
    import pandas as pd

    p = validate(
        {
            "demand": {
                "overrides": [
                    {"sku": "KET-1001", "month": "2026-12", "quantity": 5, "owner": "A", "reason": "r"},
                    {"sku": "KET-1O01", "month": "2026-12", "quantity": 5, "owner": "A", "reason": "r"},
                    {"family": "Kettle", "month": "2026-12", "change_pct": 5, "owner": "A", "reason": "r"},
                ]
            }
        }
    )
    products = pd.DataFrame({"sku": ["KET-1001", "TOA-2001"], "family": ["Kettles", "Toasters"]})
    lines = unknown_overrides(p, products)
    assert [line.split(":")[0] for line in lines] == ["demand.overrides.1", "demand.overrides.2"]
    assert "did you mean 'KET-1001'?" in lines[0] and "did you mean 'Kettles'?" in lines[1]
    assert unknown_overrides(p, None) == []


# ---------------------------------------------------------------- progress lines and --quiet
def test_progress_lines_carry_date_time_and_period():
    stream = io.StringIO()
    progress = runner.Progress(total=2, enabled=False, stream=stream, period="2026-11")
    progress.step("data_collection: running")
    progress.advance("data_collection: done in 1.0 s")
    lines = stream.getvalue().splitlines()
    pattern = (
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 2026-11 \[ *\d+\.\ds\] data_collection: (running|done in 1.0 s)"
    )
    assert len(lines) == 2 and all(re.fullmatch(pattern, line) for line in lines)


class _NoPool:
    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _fake_run(period, progress=None, pool=None, **kwargs):
    """Stands in for runner.run: reports progress as the real one does, runs nothing."""
    progress = progress or runner.Progress(total=1, enabled=False, period=period)
    progress.step("data_collection: running")
    progress.advance("data_collection: done in 0.0 s")
    return runner.RunResult(period, "success", Path(period), duration_s=0.0)


@pytest.mark.parametrize("quiet", [False, True])
def test_backfill_quiet_prints_no_progress_line(monkeypatch, capsys, quiet):
    monkeypatch.setattr(runner, "run", _fake_run)
    monkeypatch.setattr(runner.kernels, "KernelPool", _NoPool)
    args = ["backfill", "2026-09", "2026-10"] + (["--quiet"] if quiet else [])
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    progress = [line for line in captured.err.splitlines() if "data_collection" in line]
    assert len(progress) == (0 if quiet else 4)
    if not quiet:  # each line names its period
        assert [line.split()[2] for line in progress] == ["2026-09", "2026-09", "2026-10", "2026-10"]
    assert [line.split(" in ")[0] for line in captured.out.splitlines()] == [
        "2026-09: success",
        "2026-10: success",
        "2 period(s)",
    ]


# ---------------------------------------------------------------- formats: no stale report stays
def test_a_run_in_one_format_removes_the_other_formats_stale_reports(tmp_path):
    step = runner.steps_mod.get(runner.PDF_STEP)
    for name in (step.report, runner.PDF_NAME):
        (tmp_path / name).write_text("old")
    assert runner.drop_stale_reports(tmp_path, step, ["html", "pdf"]) == []
    assert runner.drop_stale_reports(tmp_path, step, ["html"]) == [tmp_path / runner.PDF_NAME]
    assert (tmp_path / step.report).exists()
    (tmp_path / runner.PDF_NAME).write_text("old")
    assert runner.drop_stale_reports(tmp_path, step, ["pdf"]) == [tmp_path / step.report]
    other = runner.steps_mod.get("demand_planning")
    (tmp_path / other.report).write_text("old")
    assert runner.drop_stale_reports(tmp_path, other, ["html"]) == []  # no PDF for this step
    assert (tmp_path / runner.PDF_NAME).exists()


# ---------------------------------------------------------------- files other users can read
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_demo_csvs_get_the_mode_of_a_normal_file(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        written = write_demo(tmp_path / "demo", seed=1, skus=3, months=6, reps=2)
    finally:
        os.umask(old)
    modes = {stat.S_IMODE(path.stat().st_mode) for path in written.values()}
    assert modes == {mode}


# ---------------------------------------------------------------- the cron line's logs/ folder
def test_logs_folder_comes_with_the_repository_and_its_contents_are_ignored():
    keep = ROOT / "logs" / ".gitignore"
    assert keep.is_file()
    try:
        ignored = subprocess.run(
            ["git", "check-ignore", "logs/salesops.log", "logs/.gitignore"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
    except OSError:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert ignored == ["logs/salesops.log"]
    for guide in ("README.md", "docs/scheduler.qmd"):
        assert ">> logs/salesops.log 2>&1" in (ROOT / guide).read_text(encoding="utf-8")
