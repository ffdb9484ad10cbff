"""Render executed notebooks into reports: self-contained HTML and a Typst PDF.

Quarto renders when its binary is on the PATH (and `report.renderer` is `auto` or `quarto`);
otherwise the built-in path uses the engines Quarto itself uses, fully offline: nbconvert for HTML,
pandoc 3 (the `pypandoc-binary` wheel) to Typst, and the `typst` wheel to PDF.
"""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .exceptions import RenderError
from .safety import typst_string

TEMPLATES = Path(__file__).parent / "templates"
PDF_SKIP_TAGS = {"no-pdf", "parameters", "injected-parameters", "remove-cell"}
HTML_SKIP_TAGS = {"no-html", "remove-cell"}


@dataclass
class ReportInfo:
    """What a report's title block shows.

    Attributes:
        company: The company's name.
        title: The report's title (the step's).
        period: The planning period, `YYYY-MM`.
        run_date: When the report was made; now (`YYYY-MM-DD HH:MM`) when left empty.
    """

    company: str
    title: str
    period: str
    run_date: str = ""

    def __post_init__(self):
        self.run_date = self.run_date or dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def quarto_binary() -> str | None:
    """The `quarto` executable when installed, else None.

    Returns:
        The path of `quarto` on the PATH, or None when it is not there.
    """
    return shutil.which("quarto")


def use_quarto(renderer: str = "auto") -> bool:
    """Whether reports are rendered with Quarto rather than the built-in path.

    Args:
        renderer: `report.renderer`: `auto` (Quarto when installed), `quarto` or `builtin`.

    Returns:
        True when Quarto renders: `renderer` is not `builtin` and `quarto` is on the PATH.

    Raises:
        RenderError: `renderer` is `quarto` but no `quarto` binary is on the PATH.
    """
    if renderer == "builtin":
        return False
    found = quarto_binary() is not None
    if renderer == "quarto" and not found:
        raise RenderError(
            "report.renderer is 'quarto' but no quarto binary is on the PATH; install Quarto "
            "or set report.renderer: auto"
        )
    return found


def _drop_cells(nb, tags: set[str]):
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if not tags & set(c.get("metadata", {}).get("tags", []))]
    return nb


def to_html(notebook: str | Path, target: str | Path, info: ReportInfo, renderer: str = "auto") -> Path:
    """Render an executed notebook into one self-contained HTML file with code hidden.

    Args:
        notebook: The executed notebook (`.ipynb`).
        target: The HTML file to write.
        info: What the title block shows.
        renderer: `report.renderer`: `auto`, `quarto` or `builtin` (see `use_quarto`).

    Returns:
        `target`, written.

    Raises:
        RenderError: The notebook could not be rendered, or Quarto was asked for and is missing.

    Example:
        >>> to_html("run/notebooks/02_demand_planning.ipynb", "run/02_demand_planning.html",
        ...         ReportInfo("Demo Company", "Demand planning", "2026-11"))  # doctest: +SKIP
    """
    notebook, target = Path(notebook), Path(target)
    if use_quarto(renderer):
        return _quarto(notebook, target, "html")
    from nbconvert import HTMLExporter

    nb = _drop_cells(nbformat.read(notebook, as_version=4), HTML_SKIP_TAGS)
    exporter = HTMLExporter(
        template_name="salesops",
        extra_template_basedirs=[str(TEMPLATES / "html")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {"salesops": vars(info), "metadata": {"name": f"{info.title} · {info.period}"}}
    try:
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:  # nbconvert raises many kinds; the message names the file
        raise RenderError(f"HTML render of {notebook} failed: {exc}") from exc
    target.write_text(body, encoding="utf-8")
    return target


def notebook_markdown(nb, media_dir: Path) -> str:
    """The report as Markdown: text cells and each output's Markdown or image; code and logs dropped.

    Cells tagged for no PDF (`PDF_SKIP_TAGS`) are left out.

    Args:
        nb: The executed notebook (an `nbformat` notebook node).
        media_dir: The folder the figures are written to (created if missing), as
            `figure-N.svg` or `figure-N.png`; the Markdown links them by file name.

    Returns:
        The Markdown text, ending with a newline.
    """
    media_dir.mkdir(parents=True, exist_ok=True)
    parts: list[str] = []
    figure = 0
    for cell in _drop_cells(nb, PDF_SKIP_TAGS).cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            if "text/markdown" in data:
                parts.append(data["text/markdown"])
            elif "image/svg+xml" in data:
                figure += 1
                path = media_dir / f"figure-{figure}.svg"
                path.write_text(data["image/svg+xml"], encoding="utf-8")
                parts.append(f"![]({path.name}){{width=100%}}")
            elif "image/png" in data:
                figure += 1
                path = media_dir / f"figure-{figure}.png"
                path.write_bytes(base64.b64decode(data["image/png"]))
                parts.append(f"![]({path.name}){{width=100%}}")
    return "\n\n".join(parts) + "\n"


def _pandoc() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def to_pdf(notebook: str | Path, target: str | Path, info: ReportInfo, renderer: str = "auto") -> Path:
    """Render an executed notebook into a PDF through pandoc -> Typst -> typst, with our template.

    The template gives a title block (company, period, run date), page numbers and KPI tiles.

    Args:
        notebook: The executed notebook (`.ipynb`).
        target: The PDF file to write.
        info: What the title block shows.
        renderer: `report.renderer`: `auto`, `quarto` or `builtin` (see `use_quarto`).

    Returns:
        `target`, written.

    Raises:
        RenderError: pandoc, typst or Quarto failed, or Quarto was asked for and is missing.
    """
    notebook, target = Path(notebook), Path(target)
    if use_quarto(renderer):
        return _quarto(notebook, target, "typst")
    import typst

    nb = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="salesops-pdf-") as tmp:
        work = Path(tmp)
        body = notebook_markdown(nb, work)
        lines = body.splitlines()
        # The notebook's first heading is the title; the template prints it in the title block.
        for i, line in enumerate(lines):
            if line.startswith("# "):
                del lines[i]
                break
        (work / "report.md").write_text("\n".join(lines), encoding="utf-8")
        # -V variables reach the template as they are (metadata would be read as Markdown, so a
        # company named "[x](javascript:...)" would become a link); each is a Typst string literal
        variables = {
            "title": info.title,
            "company": info.company,
            "period": info.period,
            "run_date": info.run_date,
        }
        cmd = [
            _pandoc(),
            "-f",
            "markdown-smart-raw_html-raw_tex",
            "-t",
            "typst",
            "--template",
            str(TEMPLATES / "report.typ"),
            *[arg for key, value in variables.items() for arg in ("-V", f"{key}={typst_string(value)}")],
            "-o",
            str(work / "report.typ"),
            str(work / "report.md"),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RenderError(f"pandoc could not turn {notebook} into Typst: {done.stderr.strip()}")
        try:
            pdf = typst.compile(str(work / "report.typ"), root=str(work))
        except Exception as exc:
            raise RenderError(f"typst could not compile the PDF of {notebook}: {exc}") from exc
        target.write_bytes(pdf)
    return target


def _quarto(notebook: Path, target: Path, fmt: str) -> Path:
    """Render with Quarto (no execution: the notebook already ran)."""
    cmd = [
        quarto_binary() or "quarto",
        "render",
        str(notebook),
        "--to",
        fmt,
        "--no-execute",
        "-M",
        "echo:false",
        "-M",
        "embed-resources:true",
        "--output",
        target.name,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=notebook.parent, check=False)
    if done.returncode != 0:
        raise RenderError(f"quarto render of {notebook} failed: {done.stderr.strip()[-800:]}")
    produced = notebook.parent / (
        target.name if fmt == "html" else Path(target.name).with_suffix(".pdf").name
    )
    if produced != target:
        shutil.move(produced, target)
    return target
