"""Rendering: report helpers escape data; HTML is self-contained; the PDF goes through pandoc and Typst."""

from __future__ import annotations

import re
import shutil
import subprocess

import nbformat
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter

from salesops import charts, render, report

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
    nb = executed_notebook(report.table(frame), charts.bar(frame, "family", "units"))
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
    assert len(re.findall(r'<img alt="chart" class="so-chart" src="data:image/svg\+xml;base64,', text)) == 1
    assert "HTML-ONLY DETAIL" in text


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
