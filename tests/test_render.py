"""Rendering: report helpers escape data; HTML is self-contained; the PDF goes through pandoc and Typst."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

import nbformat
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter

from salesops import charts, html_charts, render, report

EVIL = "<script>alert(1)</script>"


def executed_notebook(*objects, markdown="# Executive S&OP review\n\nIntro text.\n\n## Balance"):
    """A notebook whose outputs are what Jupyter would store for `objects`."""
    formatter = DisplayFormatter()
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(markdown))
    params = nbformat.v4.new_code_cell('period = "2026-11"', metadata={"tags": ["parameters"]})
    nb.cells.append(params)
    for obj in objects:
        data, meta = formatter.format(obj)
        cell = nbformat.v4.new_code_cell("shown()")
        cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=meta)]
        nb.cells.append(cell)
    hidden = nbformat.v4.new_code_cell("detail()", metadata={"tags": ["no-pdf"]})
    hidden.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "HTML-ONLY DETAIL"})]
    nb.cells.append(hidden)
    return nb


@pytest.fixture
def frame():
    return pd.DataFrame({"family": [EVIL, "a|b", "=cmd|' /C calc'!A0"], "units": [1234.5, 2.0, 3.25]})


def test_table_escapes_html_and_markdown(frame):
    shown = report.table(frame, caption="Families & more")
    html = shown._repr_html_()
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<caption>Families &amp; more</caption>" in html
    md = shown._repr_markdown_()
    assert "| \\<script\\>alert(1)\\</script\\> | 1,234 |" in md
    assert "| a\\|b | 2.00 |" in md


def test_table_cuts_long_frames():
    shown = report.table(pd.DataFrame({"x": range(45)}), max_rows=10)
    assert shown._repr_html_().count("<tr>") == 11 and "35 more rows" in shown._repr_html_()


def test_tiles_and_callout_escape():
    tiles = report.tiles([("eNPS", EVIL, 'say "hi"', "bad")])
    assert EVIL not in tiles._repr_html_()
    assert '"<script>alert(1)</script>", "say \\"hi\\""' in tiles._repr_markdown_()
    assert EVIL not in report.callout(EVIL)._repr_html_()


def test_html_is_self_contained_and_hides_code(tmp_path, frame):
    nb = executed_notebook(
        report.table(frame), charts.bar(frame, "family", "units"), charts.bar(frame, "family", "units")
    )
    nbformat.write(nb, tmp_path / "nb.ipynb")
    out = render.to_html(
        tmp_path / "nb.ipynb",
        tmp_path / "nb.html",
        render.ReportInfo("ACME <b>", "Executive S&OP review", "2026-11"),
        renderer="builtin",
    )
    text = out.read_text()
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", text), (
        "no resource may load from the web"
    )
    assert "shown()" not in text, "code must be hidden"
    assert EVIL not in text and "ACME &lt;b&gt;" in text
    # interactive charts: a container each, the Vega libraries inlined once, no SVG copy in the page
    assert text.count('<div class="so-chart so-vega" role="figure"></div>') == 2
    assert text.count("window.vegaEmbed=") == 1
    assert '<img alt="chart"' not in text
    assert "HTML-ONLY DETAIL" in text
    assert out.stat().st_size < 1_300_000


def test_chart_spec_cannot_end_its_script_element():
    html = html_charts.chart_html({"title": EVIL, "data": {"values": [{"a": "</script><b>x"}]}})
    assert "</script>" not in html.split('class="so-vega-spec">', 1)[1][: -len("</script>")]
    spec = html.split('class="so-vega-spec">', 1)[1][: -len("</script>")]
    assert json.loads(spec)["title"] == EVIL


def test_charts_are_explorable():
    months = pd.date_range("2026-01-01", periods=3, freq="MS")
    frame = pd.DataFrame(
        {"month": list(months) * 2, "wape_naive": [0.1] * 6, "family": ["A"] * 3 + ["B"] * 3}
    )
    spec = charts.explorable(charts.line(frame, "month", "wape_naive", color="family").to_dict())
    names = [p["name"] for p in spec["params"]]
    assert names == ["legend_family", "zoom"]
    assert spec["params"][0]["bind"] == "legend" and spec["params"][1]["bind"] == "scales"
    tips = {t["field"]: t for t in spec["encoding"]["tooltip"]}
    assert tips["wape_naive"]["title"] == "WAPE, naive (%)" and tips["family"]["title"] == "Family"
    assert tips["month"]["format"] == "%b %Y" and "," in tips["wape_naive"]["format"]
    assert spec["encoding"]["opacity"]["condition"]["param"] == "legend_family"
    bundle = charts._render(charts.bar(frame, "family", "wape_naive").to_dict())
    assert charts.VEGALITE_MIME in bundle and bundle["image/svg+xml"].startswith("<svg")


def test_table_labels_units_separators_and_csv():
    shown = report.table(
        pd.DataFrame({"unique_id": ["=A1+1", "B"], "wape_naive": [0.125, 0.5], "units": [1234.0, 5.0]}),
        caption="Accuracy",
        formats={"wape_naive": ".1%", "units": ".0f"},
    )
    html = shown._repr_html_()
    assert '<th class="txt" scope="col">SKU</th>' in html
    assert "WAPE, naive (%)" in html and "unique_id" not in html and "1,234" in html
    assert '<td class="num">12.5%</td>' in html and '<th class="num"' in html
    link = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html)
    csv = base64.b64decode(link.group(1)).decode("utf-8-sig")
    assert csv.splitlines()[0] == 'SKU,"WAPE, naive (%)",Units'
    assert "'=A1+1" in csv and "0.125" in csv


def test_step_workbook_has_a_sheet_per_product_and_safe_cells(tmp_path):
    from openpyxl import load_workbook

    from salesops import workbook

    path = workbook.write_workbook(
        {
            "alerts": pd.DataFrame({"subject": ["@SUM(A1)", "ok"], "value": [-1.5, 2.0]}),
            "bias": pd.DataFrame({"x": [1]}),
        },
        tmp_path / "06_follow_up.xlsx",
    )
    book = load_workbook(path)
    assert book.sheetnames == ["alerts", "bias"]
    rows = list(book["alerts"].values)
    assert rows[1][0] == "'@SUM(A1)" and rows[1][1] == -1.5


def test_pdf_has_title_block_page_numbers_tiles_and_tables(tmp_path, frame):
    nb = executed_notebook(
        report.tiles([("Service level", "94%", "target 95%", "warn")]),
        report.table(frame, caption="Families"),
        charts.bar(frame, "family", "units"),
    )
    nbformat.write(nb, tmp_path / "nb.ipynb")
    pdf = render.to_pdf(
        tmp_path / "nb.ipynb",
        tmp_path / "nb.pdf",
        render.ReportInfo("ACME", "Executive S&OP review", "2026-11", "2026-11-02 06:00"),
        renderer="builtin",
    )
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "Executive S&OP review",
        "ACME · S&OP period 2026-11 · run 2026-11-02 06:00",
        "Service level",
        "94%",
        "Balance",
        "<script>alert(1)</script>",
        "1,234",
        "page 1 of 1",
        "Intro text.",
    ):
        assert expected in text, expected
    assert "HTML-ONLY DETAIL" not in text and "period = " not in text
    assert text.count("Executive S&OP review") == 1, "the title shows once, in the title block"


def test_pdf_error_names_the_notebook(tmp_path, monkeypatch):
    nb = executed_notebook(report.tiles([("x", "1", "", "info")]))
    nbformat.write(nb, tmp_path / "nb.ipynb")
    monkeypatch.setattr(render, "TEMPLATES", tmp_path / "missing")
    with pytest.raises(render.RenderError, match="nb.ipynb"):
        render.to_pdf(
            tmp_path / "nb.ipynb",
            tmp_path / "nb.pdf",
            render.ReportInfo("A", "B", "2026-11"),
            renderer="builtin",
        )


def test_quarto_renderer_requested_without_binary_says_how_to_fix(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(render.RenderError, match="no quarto binary is on the PATH"):
        render.use_quarto("quarto")
    assert render.use_quarto("auto") is False


@pytest.mark.skipif(
    shutil.which("quarto") is None,
    reason="Quarto is not installed here (pip install quarto-cli downloads its binary while "
    "building, which fails offline); the built-in renderer is tested instead",
)
def test_quarto_renders_html_and_pdf(tmp_path, frame):
    nb = executed_notebook(report.table(frame), charts.bar(frame, "family", "units"))
    nbformat.write(nb, tmp_path / "nb.ipynb")
    info = render.ReportInfo("ACME", "Executive S&OP review", "2026-11")
    html = render.to_html(tmp_path / "nb.ipynb", tmp_path / "nb.html", info, renderer="quarto")
    assert EVIL not in html.read_text()
    pdf = render.to_pdf(tmp_path / "nb.ipynb", tmp_path / "nb.pdf", info, renderer="quarto")
    assert pdf.read_bytes().startswith(b"%PDF")
