"""The whole cycle end to end, through the real `salesops` command, on a small demo company.

One run (module fixture) feeds the checks of its outputs, the PDF (poppler), the HTML reports in
real headless Chromium, and the failure, resume, lock and bad-input behaviour.
The data source is a real PostgreSQL server when SALESOPS_TEST_PG_URL is set (scripts/with-postgres.sh
sets it), else a folder of CSV files; product and rep names carry HTML/script injections.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SALESOPS = str(Path(sys.executable).parent / "salesops")
PERIOD = "2026-11"
SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = "<img src=x onerror=alert(2)>"
REPORTS = [
    "01_data_collection.html",
    "02_demand_planning.html",
    "03_supply_planning.html",
    "04_pre_sop.html",
    "05_executive_review.html",
    "06_follow_up.html",
    "07_sales_performance.html",
]

pytestmark = pytest.mark.slow


def salesops(*args, cwd=ROOT, env=None, check=False):
    done = subprocess.run(
        [SALESOPS, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=900,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"salesops {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return done


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_demo(folder: Path) -> Path:
    salesops("demo", folder, "--seed", 3, "--skus", 24, "--months", 36, "--reps", 8, check=True)
    products = pd.read_csv(folder / "products.csv")
    products.loc[0, "family"] = SCRIPT_NAME
    products.to_csv(folder / "products.csv", index=False)
    rep = pd.read_csv(folder / "reps.csv")["rep"].iloc[0]
    for table in ("reps", "opportunities", "quotas"):
        frame = pd.read_csv(folder / f"{table}.csv")
        frame["rep"] = frame["rep"].replace(rep, IMG_NAME)
        frame.to_csv(folder / f"{table}.csv", index=False)
    return folder


def load_into_postgres(folder: Path, url: str, password: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(sa.engine.make_url(url).set(password=password))
    with engine.begin() as conn:
        for csv in folder.glob("*.csv"):
            pd.read_csv(csv).to_sql(csv.stem, conn, if_exists="replace", index=False)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    base = tmp_path_factory.mktemp("cycle")
    data = make_demo(base / "data")
    env = {}
    url, password = os.environ.get("SALESOPS_TEST_PG_URL"), os.environ.get("SALESOPS_DB_PASSWORD")
    if url and password:
        source = load_into_postgres(data, url, password)
        env["SALESOPS_DB_PASSWORD"] = password
    elif os.environ.get("CI"):
        pytest.fail(
            "CI must run the cycle against PostgreSQL: run the tests through scripts/with-postgres.sh"
        )
    else:
        source = data
    out = base / "reports"
    done = salesops("run", PERIOD, "--data", source, "--out", out, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    return {
        "out": out,
        "run": out / PERIOD,
        "source": source,
        "data": data,
        "env": env,
        "log": done.stderr,
        "password": password if url else None,
    }


def test_every_report_is_written_and_not_trivial(cycle):
    run = cycle["run"]
    for name in REPORTS:
        text = (run / name).read_text(encoding="utf-8")
        assert len(text) > 20_000, f"{name} is suspiciously small ({len(text)} bytes)"
        assert "Traceback" not in text, f"{name} shows a traceback"
    assert (run / "executive_review.pdf").stat().st_size > 10_000
    for step in ("data_collection", "sales_performance", "demand_planning", "supply_planning"):
        assert list((run / "data" / step).glob("*.parquet")), f"{step} wrote no outputs"
    assert len(list((run / "notebooks").glob("*.ipynb"))) == 7
    assert not list((cycle["out"] / ".build").glob("*")), "the build folder was not moved into place"


def test_run_json_records_the_run(cycle):
    record = json.loads((cycle["run"] / "run.json").read_text())
    assert record["period"] == PERIOD and record["status"] == "success"
    assert set(record["steps"]) == {
        "data_collection",
        "sales_performance",
        "demand_planning",
        "supply_planning",
        "pre_sop",
        "executive_review",
        "follow_up",
    }
    assert all(s["execute_s"] > 0 and s["render_s"] >= 0 for s in record["steps"].values())
    assert re.fullmatch(r"[0-9a-f]{64}", record["params_hash"]) and re.fullmatch(
        r"[0-9a-f]{64}", record["input_hash"]
    )
    assert {"pandas", "statsmodels", "salesops", "python"} <= set(record["versions"])
    assert isinstance(record["alerts"], list)


def test_progress_is_plain_log_lines_when_not_a_terminal(cycle):
    lines = [line for line in cycle["log"].splitlines() if "done in" in line]
    assert len(lines) == 7, cycle["log"][-2000:]
    line_format = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d{4}-\d\d \[\s*\d+\.\ds\] \w+: done in \d+\.\d s$"
    assert all(re.match(line_format, line) for line in lines), lines
    assert "\x1b[" not in cycle["log"], "no terminal escape codes in a log"


def test_indexes_link_every_report(cycle):
    page = (cycle["run"] / "index.html").read_text()
    for name in REPORTS + ["executive_review.pdf"]:
        assert f'href="{name}"' in page
    assert f'href="{PERIOD}/index.html"' in (cycle["out"] / "index.html").read_text()


def test_executive_pdf_has_its_sections_and_at_most_four_pages(cycle):
    pdf = cycle["run"] / "executive_review.pdf"
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 1 <= pages <= 4
    text = subprocess.run(
        ["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in ("Executive S&OP review", f"S&OP period {PERIOD}", "Demo Company", f"page 1 of {pages}"):
        assert expected in text, f"'{expected}' missing from the PDF"


def test_strings_from_data_are_escaped(cycle):
    shown = 0
    for name in REPORTS + ["index.html"]:
        text = (cycle["run"] / name).read_text(encoding="utf-8")
        assert SCRIPT_NAME not in text and IMG_NAME not in text, f"unescaped data in {name}"
        shown += text.count("&lt;script&gt;alert(1)&lt;/script&gt;") + text.count(
            "&lt;img src=x onerror=alert(2)&gt;"
        )
    assert shown > 0, "the injected names should show as text somewhere"


def test_database_password_appears_in_no_output(cycle):
    if not cycle["password"]:
        pytest.skip("no PostgreSQL server: run through scripts/with-postgres.sh")
    secret = cycle["password"].encode()
    leaks = [str(p) for p in cycle["out"].rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert not leaks and secret.decode() not in cycle["log"]


def test_reports_name_no_server_path_or_host(cycle):
    """Reports and the PDF say nothing of where they were made (run.json keeps the locations)."""
    host = socket.gethostname()
    needles = {str(cycle["out"]), str(cycle["out"].resolve())}
    if len(host) > 3:
        needles.add(host)
    texts = {name: (cycle["run"] / name).read_text(encoding="utf-8") for name in [*REPORTS, "index.html"]}
    if shutil.which("pdftotext"):
        texts["executive_review.pdf"] = subprocess.run(
            ["pdftotext", cycle["run"] / "executive_review.pdf", "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = [
        f"{name}: {needle}"
        for name, text in texts.items()
        for needle in needles
        if re.search(rf"(?<![\w.-]){re.escape(needle)}(?![\w.-])", text)
        or (needle != host and needle in text)
    ]
    assert not found, f"server locations in the reports: {found}"


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Chromium is not installed (scripts/system-deps.sh installs it)")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


LOCAL = ("file:", "data:", "about:", "blob:")
# the groups of the spec's marks (not axes, legends or titles), with something drawn in them
DRAWN_MARKS = """containers => containers.map(c => [...c.querySelectorAll('g')].filter(g =>
    (g.getAttribute('class') || '').split(' ').includes('role-mark') && g.childElementCount > 0).length)"""


def hover_tooltip(page, container) -> str:
    """Hover marks of one chart until vega-embed's tooltip shows; its text ('' when none showed)."""
    container.scroll_into_view_if_needed()
    items = container.locator("g.role-mark > path, g.role-mark > line, g.role-mark > text")
    count = items.count()
    for i in sorted({count // 2, 0, count - 1, count // 3, 2 * count // 3} - {-1}):
        box = items.nth(i).bounding_box()
        if not box:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(10):  # up to 1.5 s for the tooltip to show
            page.wait_for_timeout(150)
            if page.locator("#vg-tooltip-element.visible").count():
                text = page.inner_text("#vg-tooltip-element")
                page.mouse.move(0, 0)
                return text
    return ""


@pytest.mark.browser
@pytest.mark.parametrize("name", REPORTS + ["index.html"])
def test_report_in_a_real_browser(cycle, browser, name):
    """Every report in headless Chromium with the network cut off: charts drawn, tooltips, no error."""
    page = browser.new_page()
    problems, dialogs, left = [], [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: left.append(r.url) if not r.url.startswith(LOCAL) else None)
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(LOCAL)
            else (left.append(route.request.url), route.abort())
        ),
    )
    page.goto((cycle["run"] / name).as_uri())
    page.wait_for_load_state("load")
    containers = page.locator(".so-vega")
    if containers.count():
        page.wait_for_function(
            "() => [...document.querySelectorAll('.so-vega')].every(c => c.querySelector('svg'))",
            timeout=30_000,
        )
    marks = page.eval_on_selector_all(".so-vega", DRAWN_MARKS)
    tooltips = [hover_tooltip(page, containers.nth(i)) for i in range(len(marks))]
    static = page.eval_on_selector_all("img.so-chart", "els => els.length")
    text = page.inner_text("body")
    page.close()
    assert not problems, f"{name}: {problems}"
    assert not left, f"{name}: requests left the machine: {left}"
    assert not dialogs, f"{name}: data ran as script: {dialogs}"
    assert not static, f"{name}: {static} chart(s) are static images, not interactive"
    assert all(marks), f"{name}: a chart has no marks drawn ({marks})"
    assert all(tooltips), (
        f"{name}: no tooltip on hovering a mark of chart(s) {[i for i, t in enumerate(tooltips) if not t]}"
    )
    if name in REPORTS[:5] + REPORTS[6:]:
        assert marks, f"{name} should show at least one chart"
    if name == "07_sales_performance.html":
        assert IMG_NAME in text, "the rep's name should show as text"


def test_resume_from_a_step_reuses_earlier_outputs(cycle, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(cycle["out"], out)
    before = tree_digest(out / PERIOD / "data" / "data_collection")
    record = json.loads((out / PERIOD / "run.json").read_text())
    done = salesops(
        "run", PERIOD, "--data", cycle["source"], "--out", out, "--from", "pre_sop", env=cycle["env"]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    after = json.loads((out / PERIOD / "run.json").read_text())
    assert tree_digest(out / PERIOD / "data" / "data_collection") == before
    assert after["steps"]["demand_planning"] == record["steps"]["demand_planning"]
    assert after["steps"]["pre_sop"]["ran"] >= record["steps"]["pre_sop"]["ran"]
    assert after["steps"]["pre_sop"] != record["steps"]["pre_sop"]
    for name in REPORTS:
        assert (out / PERIOD / name).exists()


def test_resume_without_earlier_outputs_says_what_to_run(tmp_path, cycle):
    done = salesops(
        "run", PERIOD, "--data", cycle["data"], "--out", tmp_path / "empty", "--from", "supply_planning"
    )
    assert done.returncode == 2
    assert "--from supply_planning needs the outputs of data_collection" in done.stderr
    assert f"salesops run {PERIOD}" in done.stderr


def test_failing_cell_names_step_and_cell_and_keeps_previous_reports(cycle, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "params", project / "params")
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    nb_path = project / "notebooks" / "03_supply_planning.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("capacity table exploded")'))
    nbformat.write(nb, nb_path)
    out = tmp_path / "reports"
    shutil.copytree(cycle["out"], out)
    before = tree_digest(out / PERIOD)
    done = salesops(
        "run",
        PERIOD,
        "--data",
        cycle["source"],
        "--out",
        out,
        "--from",
        "supply_planning",
        cwd=project,
        env=cycle["env"],
    )
    assert done.returncode == 1
    assert "step supply_planning failed" in done.stderr
    assert re.search(r"cell \d+: RuntimeError: capacity table exploded", done.stderr), done.stderr
    assert tree_digest(out / PERIOD) == before, "a failed run must leave the previous reports intact"
    kept = list((out / ".failed").glob(f"{PERIOD}-*/notebooks/03_supply_planning.ipynb"))
    assert kept, "the failed executed notebook should be kept for inspection"
    assert "capacity table exploded" in kept[0].read_text()


def test_second_run_of_the_same_period_is_refused(cycle, tmp_path):
    from salesops.runner import period_lock

    out = tmp_path / "reports"
    with period_lock(out, PERIOD):
        done = salesops("run", PERIOD, "--data", cycle["data"], "--out", out)
    assert done.returncode == 2
    assert f"period {PERIOD} is already being run (pid {os.getpid()}" in done.stderr
    assert not (out / PERIOD).exists()


def test_bad_input_exits_2_and_loses_nothing(cycle, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(cycle["data"], data)
    sales = pd.read_csv(data / "sales.csv")
    sales.loc[5, "quantity"] = -40
    sales.to_csv(data / "sales.csv", index=False)
    out = tmp_path / "reports"
    shutil.copytree(cycle["out"], out)
    before = tree_digest(out)
    done = salesops("run", PERIOD, "--data", data, "--out", out)
    assert done.returncode == 2
    assert "sales.quantity row 6" in done.stderr and "(-40" in done.stderr
    assert tree_digest(out) == before


def test_backfill_runs_consecutive_periods_and_fails_on_alert(cycle, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        (ROOT / "params" / "default.yaml").read_text()
        + """
decisions:
  - {id: D-1, title: Add a night shift, owner: Head of Operations, due: 2026-01-15, status: open}
"""
    )
    out = tmp_path / "reports"
    done = salesops(
        "backfill",
        "2026-09",
        "2026-10",
        "--params",
        params,
        "--data",
        cycle["data"],
        "--out",
        out,
        "--format",
        "html",
        "--fail-on-alert",
        env=cycle["env"],
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert "alert(s) fired" in done.stderr
    # every period is still reported, with its time, then the total (what a scheduler's log shows)
    lines = done.stdout.strip().splitlines()
    assert [line.split(" in ")[0] for line in lines] == [
        "2026-09: success",
        "2026-10: success",
        "2 period(s)",
    ]
    took = [float(line.rsplit(" in ", 1)[1].removesuffix(" s")) for line in lines]
    for period, seconds in zip(("2026-09", "2026-10"), took):
        assert abs(seconds - json.loads((out / period / "run.json").read_text())["duration_s"]) <= 0.051
    assert took[2] >= took[0] + took[1]
    for period in ("2026-09", "2026-10"):
        assert json.loads((out / period / "run.json").read_text())["status"] == "success"
        assert not (out / period / "executive_review.pdf").exists(), "--format html renders no PDF"
    alerts = json.loads((out / "2026-10" / "run.json").read_text())["alerts"]
    assert any("D-1" in a["subject"] or "D-1" in a["message"] for a in alerts), alerts
    sources = pd.read_parquet(out / "2026-10" / "data" / "follow_up" / "plan_sources.parquet")
    assert "2026-09" in set(sources.astype(str).to_numpy().ravel()), sources
