"""Interactive charts in the HTML reports: vega-embed, inlined once per page, nothing from the network.

A chart displayed in a notebook carries its Vega-Lite spec (`salesops.charts.VEGALITE_MIME`) and
its SVG. When nbconvert renders the HTML report, `EmbedCharts` (registered in the template's
`conf.json`) turns each chart output into a small container plus its spec as inert JSON, and tells
the template to inline the Vega, Vega-Lite and vega-embed libraries once, at the end of the page
(`vega_javascript`, bundled offline by vl-convert). The PDF path never sees this: it reads the SVG.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor

from .charts import VEGALITE_MIME

__all__ = ["EMBED_OPTIONS", "EmbedCharts", "chart_html", "vega_javascript", "workbook_name"]

VEGA_LITE_VERSION = "6.4"
"""The Vega-Lite version of the inlined library (Altair 6's schema)."""

EMBED_OPTIONS = {
    "mode": "vega-lite",
    "renderer": "svg",
    # export as SVG/PNG stays; "open in the online editor" and "view source" would leave the page
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}
"""The vega-embed options of every chart."""

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _inert_json(value) -> str:
    """JSON that cannot end the `<script>` element holding it (data may hold `</script>`)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def chart_html(spec: dict) -> str:
    """The HTML of one chart: an empty container and its spec as inert JSON beside it.

    The page's script (`vega_javascript` plus the template's loop) draws every container with
    vega-embed; the spec is escaped so that no value from the data can end the script element.

    Args:
        spec: The Vega-Lite spec.

    Returns:
        The HTML fragment.

    Example:
        >>> chart_html({"mark": "bar", "title": "</script>"}).count("</script>")  # its own end only
        1
    """
    return (
        '<div class="so-chart so-vega" role="figure"></div>'
        f'<script type="application/json" class="so-vega-spec">{_inert_json(spec)}</script>'
    )


@functools.lru_cache(maxsize=1)
def vega_javascript() -> str:
    """The Vega, Vega-Lite and vega-embed libraries as one script, built offline by vl-convert.

    Returns:
        JavaScript that defines `window.vegaEmbed` (about 900 kB; built once per process).

    Example:
        >>> "vegaEmbed" in vega_javascript()  # doctest: +SKIP
        True
    """
    import vl_convert as vlc

    script = vlc.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    return script.replace("</script", "<\\/script")


def workbook_name(nb) -> str | None:
    """The file name of the step's Excel workbook beside the report, when the runner wrote one.

    Args:
        nb: The executed notebook (papermill records where it was written).

    Returns:
        `<report>.xlsx` when that file exists beside the run's reports, else None.
    """
    output = nb.metadata.get("papermill", {}).get("output_path")
    if not output:
        return None
    path = Path(output)
    workbook = path.parent.parent / f"{path.stem}.xlsx"
    return workbook.name if workbook.exists() else None


class EmbedCharts(Preprocessor):
    """nbconvert preprocessor of the HTML report: chart outputs become vega-embed containers.

    Each output holding a Vega-Lite spec keeps only its HTML (`chart_html`); the SVG and the spec
    are dropped from the page. `resources["salesops_vega"]` gets the libraries to inline once when
    the report has a chart, and `resources["salesops_workbook"]` the step's workbook to link.
    """

    def preprocess(self, nb, resources):
        """Replace the chart outputs of every cell.

        Args:
            nb: The notebook.
            resources: nbconvert's resources (the template reads the keys set here).

        Returns:
            The notebook and the resources.
        """
        charts = 0
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if VEGALITE_MIME in data:
                    spec = data[VEGALITE_MIME]
                    output["data"] = nbformat.from_dict({"text/html": chart_html(spec)})
                    charts += 1
        resources["salesops_vega"] = vega_javascript() if charts else ""
        resources["salesops_vega_options"] = _inert_json(EMBED_OPTIONS)
        resources["salesops_workbook"] = workbook_name(nb)
        return nb, resources
