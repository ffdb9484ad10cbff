"""Bad inputs, params, periods, URLs and folders end in exit 2 with one line per problem, never a traceback.

Every test runs the `salesops` command in a real subprocess, as a user or a scheduler would; folder
permissions are real (as root, the command runs under `setpriv` without CAP_DAC_OVERRIDE).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from salesops.data.validate import parse_table
from salesops.runner import _publish

PERIOD = "2026-11"
DROP_DAC = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


def salesops(*args, cwd=None, env=None, drop_dac=False, timeout=300) -> subprocess.CompletedProcess:
    """Run `salesops ARGS` in a subprocess; it must never print a Python traceback."""
    cmd = [sys.executable, "-m", "salesops", *map(str, args)]
    if drop_dac and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop CAP_DAC_OVERRIDE")
        cmd = [*DROP_DAC, "--", *cmd]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "data"
    assert salesops("demo", folder).returncode == 0
    return folder


@pytest.fixture
def data(demo_dir, tmp_path) -> Path:
    """A fresh copy of the demo company's CSV files to corrupt."""
    return Path(shutil.copytree(demo_dir, tmp_path / "data"))


def validate(folder, period=PERIOD, *extra) -> subprocess.CompletedProcess:
    return salesops("validate", "--data", folder, "--period", period, *extra)


def errors(done) -> list[str]:
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("error")]


def edit_lines(path: Path, change) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    change(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- dates
def test_time_zones_count_on_the_calendar_date_written(data):
    def zone(lines):
        date = lines[5].split(",")[0]
        lines[5] = lines[5].replace(date, date + "T23:30:00-05:00", 1)
        lines[6] = lines[6].replace(lines[6].split(",")[0], lines[6].split(",")[0] + "T10:00:00Z", 1)

    edit_lines(data / "sales.csv", zone)
    assert validate(data).returncode == 0
    frame = pd.DataFrame(
        {
            "date": ["2026-10-31T23:30:00-05:00", "2026-11-01T01:00:00+09:00", "2026-10-05"],
            "sku": "A",
            "quantity": "1",
        }
    )
    typed, found = parse_table("sales", frame)
    assert not [f for f in found if f.is_error]
    assert typed["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-31", "2026-11-01", "2026-10-05"]


def test_day_first_dates_are_detected_and_named(data):
    sales = pd.read_csv(data / "sales.csv", dtype=str)
    sales["date"] = pd.to_datetime(sales["date"]).dt.strftime("%d/%m/%Y")  # monthly totals: 01/02/2023
    sales.to_csv(data / "sales.csv", index=False)
    done = validate(data)
    assert done.returncode == 0, errors(done)
    assert "dates are written day first (DD/MM/YYYY)" in done.stdout

    sales.loc[3, "date"] = "13/02/2023"  # day first
    sales.loc[4, "date"] = "02/13/2023"  # month first
    sales.to_csv(data / "sales.csv", index=False)
    done = validate(data)
    assert done.returncode == 2
    assert any("sales.date row 4: dates mix day-first" in line for line in errors(done)), errors(done)


# ---------------------------------------------------------------- file shapes
def test_semicolon_delimiter_is_named(data):
    path = data / "products.csv"
    path.write_text(path.read_text().replace(",", ";"))
    done = validate(data)
    assert done.returncode == 2
    assert errors(done)[0].startswith("error: products: file products.csv is separated by semicolons (;)")


def test_title_line_above_the_header_is_named(data):
    path = data / "products.csv"
    path.write_text("Product master, exported 2026-11-02\n" + path.read_text())
    done = validate(data)
    assert done.returncode == 2
    assert "the header is on line 2, not line 1" in errors(done)[0]


def test_excel_sheet_with_a_title_row_is_named(data):
    products = pd.read_csv(data / "products.csv", dtype=str)
    with pd.ExcelWriter(data / "products.xlsx") as writer:
        pd.DataFrame([["Product master"]]).to_excel(writer, index=False, header=False)
        products.to_excel(writer, index=False, startrow=2)
    (data / "products.csv").unlink()
    done = validate(data)
    assert done.returncode == 2
    assert "file products.xlsx: the header is on line 3, not line 1" in errors(done)[0]


def test_duplicated_column_name_is_refused(data):
    edit_lines(
        data / "sales.csv", lambda lines: lines.__setitem__(0, lines[0].replace("revenue", "quantity"))
    )
    done = validate(data)
    assert done.returncode == 2
    assert (
        "error: sales.quantity: file sales.csv has the column 'quantity' twice (columns 3 and 4); keep one"
        in errors(done)
    )


def test_two_files_for_one_table_are_refused(data):
    pd.read_csv(data / "sales.csv").to_parquet(data / "sales.parquet")
    done = validate(data)
    assert done.returncode == 2
    assert "two files for one table" in errors(done)[0] and "sales.csv and sales.parquet" in errors(done)[0]


def test_rows_with_more_or_fewer_fields_are_named(data):
    def ragged(lines):
        lines[4] += ",extra"
        lines[6] = lines[6].rsplit(",", 1)[0]

    edit_lines(data / "sales.csv", ragged)
    done = validate(data)
    assert done.returncode == 2
    assert errors(done)[:2] == [
        "error: sales row 4: 5 fields where the header has 4; check the delimiters and quote texts that "
        "hold a comma (" + (data / "sales.csv").read_text().splitlines()[4] + ")",
        "error: sales row 6: 3 fields where the header has 4; check the delimiters and quote texts that "
        "hold a comma (" + (data / "sales.csv").read_text().splitlines()[6] + ")",
    ]


def test_text_longer_than_the_limit_is_refused_unless_params_raise_it(data, tmp_path):
    products = pd.read_csv(data / "products.csv", dtype=str)
    products.loc[2, "family"] = "F" * 5000
    products.to_csv(data / "products.csv", index=False)
    done = validate(data)
    assert done.returncode == 2
    assert any(
        line.startswith("error: products.family row 3: text of 5,000 characters, over the limit of 1,000")
        for line in errors(done)
    ), errors(done)
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  max_text_chars: 10000\n")
    assert not [e for e in errors(validate(data, PERIOD, "--params", params)) if "characters" in e]


def test_corrupt_excel_files_are_refused(data, tmp_path):
    (data / "budget.csv").unlink()
    (data / "budget.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    done = validate(data)
    assert done.returncode == 2
    assert "error: budget: file budget.xlsx cannot be read" in errors(done)[0]
    workbook = tmp_path / "book.xlsx"
    workbook.write_bytes(b"garbage")
    done = salesops("validate", "--data", workbook, "--period", PERIOD)
    assert done.returncode == 2 and "Excel workbook" in done.stderr


# ---------------------------------------------------------------- history against the period
def test_stale_history_is_refused_unless_params_allow_missing_months(data, tmp_path):
    done = validate(data, "2027-03")  # history ends 2026-10: 4 months short of 2027-02
    assert done.returncode == 2
    assert errors(done)[0].startswith(
        "error: sales.date: history ends in 2026-10, 4 month(s) short of 2027-02, the month before the period 2027-03"
    )
    assert "data.allow_missing_recent_months" in errors(done)[0]
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  allow_missing_recent_months: 4\n")
    assert validate(data, "2027-03", "--params", params).returncode == 0
    assert validate(data, "2040-01").returncode == 2  # years ahead


def test_one_row_dated_after_the_period_is_one_error_naming_it(data):
    edit_lines(data / "sales.csv", lambda lines: lines.append("2031-05-03,KET-1001,1,25.13"))
    done = validate(data)
    assert done.returncode == 2
    rows = len((data / "sales.csv").read_text().splitlines()) - 1
    assert errors(done) == [
        (
            f"error: sales.date row {rows}: dated after the period {PERIOD}, beyond the last month with "
            "sales; fix the date (a mistyped year?) or run the period it belongs to (2031-05-03)"
        )
    ]


def test_an_earlier_period_still_runs_on_a_later_export(data):
    assert validate(data, "2026-06").returncode == 0  # a backfill: later months are left out


# ---------------------------------------------------------------- params, periods, URLs
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--period", "0000-01"], "the year must be between 1900 and 2200"),
        (["--data", "mysql+pymysql://planner@db.example.com/erp"], "database driver for mysql+pymysql"),
        (["--data", "postgresql://planner@db.example.com/erp"], "database driver for postgresql"),
        (
            ["--data", "postgresql+psycopg2://planner@db.example.com/erp?password=hunter2"],
            "data.password_env",
        ),
    ],
)
def test_bad_periods_and_urls_exit_2_in_one_line(args, expected):
    done = salesops("validate", *args)
    assert done.returncode == 2
    assert expected in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


def test_run_refuses_a_credential_in_the_url_query_without_echoing_it(tmp_path):
    done = salesops(
        "run", PERIOD, "--data", "postgresql+psycopg2://u@localhost/db?sslpassword=hunter2", "--out", tmp_path
    )
    assert done.returncode == 2
    assert "data.password_env" in done.stderr and "hunter2" not in done.stderr


# ---------------------------------------------------------------- output folder
def snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))
    }


def test_unwritable_output_folder_exits_2_naming_folder_and_permission(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    out.chmod(0o555)
    try:
        done = salesops("run", PERIOD, "--out", out, drop_dac=True)
    finally:
        out.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"error: output folder {out} cannot be written: write permission missing for user "
        f"{__import__('pwd').getpwuid(os.geteuid()).pw_name}; grant it (chmod u+rwx '{out}') or choose another --out"
    )
    assert list(out.iterdir()) == []


def test_read_only_period_folder_exits_2_and_leaves_everything_as_it_was(tmp_path):
    out = tmp_path / "reports"
    published = out / PERIOD
    published.mkdir(parents=True)
    (published / "index.html").write_text("published")
    before = snapshot(out)
    published.chmod(0o555)
    try:
        done = salesops("run", PERIOD, "--out", out, drop_dac=True)
    finally:
        published.chmod(0o755)
    assert done.returncode == 2
    assert f"output folder {published} cannot be written: write permission missing" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert snapshot(out) == before  # no .build, no .failed, nothing half-copied


# ---------------------------------------------------------------- injection and leaks
def test_forecast_csv_neutralises_formulas_and_keeps_numbers(tmp_path):
    months = pd.date_range("2024-01-01", periods=24, freq="MS")
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": months.strftime("%Y-%m"), "y": range(10, 34)})
            for uid in ('=HYPERLINK("http://evil.example","x")', "@SUM(A1)", "-5", "plain")
        ]
    )
    history.to_csv(tmp_path / "history.csv", index=False)
    done = salesops("forecast", tmp_path / "history.csv", "--horizon", "2", "--output", tmp_path / "f.csv")
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(tmp_path / "f.csv", dtype=str, keep_default_na=False)
    assert set(written["unique_id"]) == {
        '\'=HYPERLINK("http://evil.example","x")',
        "'@SUM(A1)",
        "-5",
        "plain",
    }
    assert pd.to_numeric(written["yhat"]).notna().all()


def test_control_characters_reach_the_terminal_escaped(data):
    edit_lines(
        data / "sales.csv",
        lambda lines: lines.__setitem__(2, lines[2].replace("KET-1001", "KET\x1b[31m-1001")),
    )
    done = validate(data)
    assert done.returncode == 2
    assert "\x1b" not in done.stdout + done.stderr
    assert "(KET\\x1b[31m-1001)" in done.stdout


def test_publish_never_leaves_a_moment_without_the_period_folder(tmp_path):
    out = tmp_path / "reports"
    final = out / PERIOD
    final.mkdir(parents=True)
    (final / "index.html").write_text("v0")
    missing, stop = [], threading.Event()

    def watch():
        while not stop.is_set():
            if not final.is_dir():
                missing.append(1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(1, 150):
            build = out / ".build" / f"{PERIOD}-{i:08x}"
            build.mkdir(parents=True)
            (build / "index.html").write_text(f"v{i}")
            _publish(build, final, out)
            assert not build.exists()
    finally:
        stop.set()
        watcher.join()
    assert (final / "index.html").read_text() == "v149"
    assert not missing


# ---------------------------------------------------------------- property: random corruption
TABLES = (
    "sales",
    "products",
    "inventory",
    "capacity",
    "supply",
    "budget",
    "opportunities",
    "reps",
    "quotas",
    "survey",
)
CORRUPTIONS = (
    "cell",
    "date",
    "truncate",
    "encoding",
    "duplicate_row",
    "duplicate_column",
    "delimiter",
    "long",
    "bytes",
    "empty",
    "drop_column",
)
WEIRD = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "2026-10-31T23:30:00-05:00",
            "2031-05-03",
            "0000-01-01",
            "31/12/2025",
            "12/31/2025",
            "2026-13-45",
            '=HYPERLINK("x")',
            "1e400",
            "-5",
            "NaN",
            "\x1b[31m",
            "",
            "9" * 40,
        ]
    ),
)


def _cli(*args) -> tuple[int, str]:
    """`salesops ARGS` in this process (fast enough for many examples); a traceback fails the test."""
    import contextlib
    import io
    import signal as _signal

    from salesops.cli import main

    handlers = {s: _signal.getsignal(s) for s in (_signal.SIGINT, _signal.SIGTERM)}
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        for s, h in handlers.items():
            _signal.signal(s, h)
    return code, out.getvalue() + err.getvalue()


def _corrupt(folder: Path, table: str, kind: str, draw) -> None:
    path = folder / f"{table}.csv"
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    lines = text.splitlines()
    if not lines:
        return  # emptied by an earlier corruption
    header = lines[0].split(",")
    row = draw(st.integers(1, max(1, len(lines) - 1)))
    col = draw(st.integers(0, len(header) - 1))
    if kind in ("cell", "date", "long"):
        value = draw(WEIRD) if kind != "long" else "x" * draw(st.integers(900, 3000))
        cells = lines[row].split(",") if row < len(lines) else list(header)
        if col < len(cells):
            cells[col] = '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n\r') else value
        lines[min(row, len(lines) - 1)] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif kind == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: draw(st.integers(0, len(data)))])
    elif kind == "encoding":
        path.write_bytes(
            text.encode(draw(st.sampled_from(["latin-1", "utf-16", "cp1252"])), errors="replace")
            + "é".encode("latin-1")
        )
    elif kind == "duplicate_row":
        lines.insert(row, lines[min(row, len(lines) - 1)])
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif kind == "duplicate_column":
        lines[0] = ",".join(header[:col] + [header[(col + 1) % len(header)]] + header[col + 1 :])
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif kind == "delimiter":
        path.write_text(text.replace(",", draw(st.sampled_from([";", "\t", "|"]))), encoding="utf-8")
    elif kind == "bytes":
        path.write_bytes(path.read_bytes() + draw(st.binary(min_size=1, max_size=64)))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "drop_column":
        path.write_text(
            "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != col) for line in lines)
            + "\n",
            encoding="utf-8",
        )


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: bounded time
)
@given(data=st.data())
def test_random_corruption_exits_0_or_2_and_never_touches_the_output(demo_dir, tmp_path_factory, data):
    folder = Path(shutil.copytree(demo_dir, tmp_path_factory.mktemp("corrupt") / "data"))
    for _ in range(data.draw(st.integers(1, 3))):
        _corrupt(
            folder, data.draw(st.sampled_from(TABLES)), data.draw(st.sampled_from(CORRUPTIONS)), data.draw
        )
    code, text = _cli("validate", "--data", folder, "--period", PERIOD)
    assert code in (0, 2), text
    assert "\x1b" not in text
    if code == 2:
        out = tmp_path_factory.mktemp("out")
        (out / PERIOD).mkdir()
        (out / PERIOD / "index.html").write_text("published")
        before = snapshot(out)
        code, text = _cli("run", PERIOD, "--data", folder, "--out", out, "--quiet")
        assert code == 2, text
        assert snapshot(out) == before


def test_params_strings_reach_the_pdf_as_literal_text(tmp_path):
    import nbformat

    from salesops.render import ReportInfo, to_pdf

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Executive review\n\nBody text.")]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    company = '[click](javascript:alert(1)) #link("https://evil.example")[x] $x$ *b* \\ " <i>'
    pdf = to_pdf(
        tmp_path / "nb.ipynb", tmp_path / "nb.pdf", ReportInfo(company, "Review", PERIOD), renderer="builtin"
    ).read_bytes()
    assert pdf.startswith(b"%PDF") and b"/URI" not in pdf  # no link was made from the company name
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", tmp_path / "nb.pdf", "-"], capture_output=True, text=True, check=True
        ).stdout
        assert company in text.replace("\n", " ")
