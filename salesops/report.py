"""Display helpers for the report notebooks.

Each helper returns an object Jupyter displays as escaped HTML (for the HTML report) and as Markdown
with raw Typst where needed (for the PDF pack). Every string that comes from data is escaped.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from .labels import label
from .safety import neutralise_frame

_STATUS_COLOURS = {"good": "#1b7f3b", "warn": "#b26a00", "bad": "#b3261e", "info": "#1f4e79"}


def money(value: float) -> str:
    """A money amount for a sentence: 1.2M, 35.0k, 940 (no currency; the sentence names it).

    Args:
        value: The amount.

    Returns:
        The amount rounded with a B, M or k suffix.

    Example:
        >>> money(1_234_567)
        '1.2M'
    """
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:,.1f}{suffix}"
    return f"{value:,.0f}"


_PLAIN_NUMBER_FORMAT = re.compile(r"^([+\- ]?)(\d*)(\.\d+)?([dfF%]?)$")
CSV_LIMIT = 300_000
"""The largest CSV (bytes) a table carries as a download link; larger tables point to the workbook."""


_ABSOLUTE_PATH = re.compile(r"^(/|[A-Za-z]:[\\/]|\\\\)[^\s]*[\\/][^\s]*$")


def shown_path(value):
    """A server path in a cell shown without its folders (`…/2026-11/plan.parquet`); anything else unchanged.

    Reports never name the machine's folders (run.json keeps the locations).

    Args:
        value: A cell's value.

    Returns:
        The value, or the path's last two parts after `…/`.

    Example:
        >>> shown_path("/srv/salesops/reports/plans/2026-11/plan.parquet")
        '…/2026-11/plan.parquet'
    """
    if isinstance(value, str) and _ABSOLUTE_PATH.match(value):
        parts = [part for part in re.split(r"[\\/]", value) if part]
        return "…/" + "/".join(parts[-2:])
    return value


_PATH_IN_TEXT = re.compile(r"(?<![\w.~:/])/(?:[^\s/]+/)+([^\s/]+)")


def _no_paths(text) -> str:
    """A sentence with its absolute paths cut to their file name (`…/plan.parquet`)."""
    return _PATH_IN_TEXT.sub(lambda m: "…/" + m.group(1), str(text))


def _grouped(fmt: str) -> str:
    """A number format with thousands separators (`.0f` -> `,.0f`); other formats unchanged."""
    match = _PLAIN_NUMBER_FORMAT.match(fmt)
    if not match or "," in fmt:
        return fmt
    sign, width, precision, kind = match.groups()
    return f"{sign}{width},{precision or ''}{kind}"


def _fmt(value, fmt: str | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value is pd.NaT:
        return "–"
    if fmt:
        try:
            return format(value, _grouped(fmt))
        except (TypeError, ValueError):
            return format(value, fmt)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m") if value.day == 1 else value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(shown_path(value))


def _md_escape(text: str) -> str:
    """Escape text for a Markdown table cell (pandoc reads it; HTML never sees it)."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "*_`[]<>#$@":
        text = text.replace(ch, "\\" + ch)
    return text


def _typst_string(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Table:
    """A table Jupyter displays as escaped HTML, or as Markdown for the PDF pack (see `table`).

    Attributes:
        frame: The rows to show.
        caption: The caption under the table.
        formats: Format specs by column (e.g. `{"share": ".1%"}`); numbers get thousands
            separators otherwise.
        max_rows: The number of rows shown; the rest are counted in a note.
        empty: What the report says instead of a table without rows: why there is nothing yet and
            when it will fill.
        labels: Header labels by column that win over `salesops.labels.LABELS`.
    """

    frame: pd.DataFrame
    caption: str | None = None
    formats: dict[str, str] | None = None
    max_rows: int = 30
    empty: str = "No rows for this period."
    labels: dict[str, str] | None = None

    def headers(self) -> list[str]:
        """The reader labels of the columns, with a `(%)` unit where the format is a percentage.

        Returns:
            One label per column of `frame`.
        """
        fmts = self.formats or {}
        out = []
        for column in self.frame.columns:
            text = label(column, self.labels)
            if "%" in fmts.get(str(column), "") and "(" not in text and "%" not in text:
                text += " (%)"
            out.append(text)
        return out

    def csv(self) -> str:
        """The whole table (every row, not only those shown) as CSV for a spreadsheet.

        Headers are the reader labels; values are raw numbers (fractions stay fractions) and dates;
        text a spreadsheet would run as a formula is neutralised (`salesops.safety`).

        Returns:
            The CSV text.
        """
        frame = self.frame.copy()
        for column in frame.columns:
            if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].map(shown_path)
        frame.columns = self.headers()
        return neutralise_frame(frame).to_csv(index=False, date_format="%Y-%m-%d")

    def _download_html(self) -> str:
        data = self.csv().encode("utf-8-sig")
        if len(data) > CSV_LIMIT:
            return (
                '<p class="so-note so-download">Too large to attach: every row is in the Excel workbook.</p>'
            )
        stem = re.sub(r"[^A-Za-z0-9]+", "-", self.caption or "table").strip("-").lower()[:60] or "table"
        href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
        return (
            f'<p class="so-note so-download"><a download="{html.escape(stem)}.csv" href="{href}">'
            "Download this table (CSV)</a></p>"
        )

    def _cells(self) -> tuple[list[str], list[list[str]], int]:
        frame = self.frame
        hidden = max(len(frame) - self.max_rows, 0)
        shown = frame.head(self.max_rows)
        fmts = self.formats or {}
        header = self.headers()
        rows = [
            [_fmt(v, fmts.get(str(c))) for c, v in zip(shown.columns, row)]
            for row in shown.itertuples(index=False, name=None)
        ]
        return header, rows, hidden

    def _empty_text(self) -> str:
        return f"{self.caption}: {self.empty}" if self.caption else self.empty

    def _repr_html_(self) -> str:
        if self.frame.empty:
            return f'<p class="so-note so-empty">{html.escape(self._empty_text())}</p>'
        header, rows, hidden = self._cells()
        numeric = [pd.api.types.is_numeric_dtype(self.frame[c]) for c in self.frame.columns]
        out = ['<table class="so-table">']
        if self.caption:
            out.append(f"<caption>{html.escape(self.caption)}</caption>")
        out.append(
            "<thead><tr>"
            + "".join(
                f'<th class="{"num" if n else "txt"}" scope="col">{html.escape(h)}</th>'
                for h, n in zip(header, numeric)
            )
            + "</tr></thead><tbody>"
        )
        for row in rows:
            out.append(
                "<tr>"
                + "".join(
                    f'<td class="{"num" if n else "txt"}">{html.escape(v)}</td>' for v, n in zip(row, numeric)
                )
                + "</tr>"
            )
        out.append("</tbody></table>")
        if hidden:
            out.append(
                f'<p class="so-note">… and {hidden:,} more rows (all of them in the CSV and the workbook).</p>'
            )
        out.append(self._download_html())
        return "".join(out)

    def _repr_markdown_(self) -> str:
        if self.frame.empty:
            return _md_escape(self._empty_text()) + "\n"
        header, rows, hidden = self._cells()
        if not header:
            return ""
        numeric = [pd.api.types.is_numeric_dtype(self.frame[c]) for c in self.frame.columns]
        lines = []
        lines.append("| " + " | ".join(_md_escape(h) for h in header) + " |")
        # Dashes in proportion to each column's widest cell: pandoc sizes wrapped columns by them.
        widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]
        lines.append(
            "|"
            + "|".join(
                ("-" * max(3, min(w, 40))) + (":" if n else "") if n else ":" + "-" * max(3, min(w, 40))
                for w, n in zip(widths, numeric)
            )
            + "|"
        )
        lines += ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in rows]
        if self.caption:
            lines += ["", f": {_md_escape(self.caption)}"]
        if hidden:
            lines += ["", f"… and {hidden:,} more rows."]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return self.frame.head(self.max_rows).to_string()


def table(
    frame: pd.DataFrame,
    caption: str | None = None,
    formats: dict[str, str] | None = None,
    max_rows: int = 30,
    empty: str = "No rows for this period.",
    labels: dict[str, str] | None = None,
) -> Table:
    """A table for a report: strings escaped, numbers formatted, long tables cut at `max_rows`.

    Args:
        frame: The rows to show.
        caption: The caption under the table.
        formats: Format specs by column (e.g. `{"share": ".1%"}`); numbers get thousands
            separators otherwise.
        max_rows: The number of rows shown; the rest are counted in a note.
        empty: Shown instead of a table without rows (after the caption): say why there is
            nothing yet and when it will fill, e.g. "fills from the second cycle on".
        labels: Header labels by column for this table, e.g. `{"amount": "Amount (EUR)"}`; every
            other column is labelled by `salesops.labels.LABELS` (`wape_naive` -> "WAPE, naive (%)").

    Returns:
        The `Table` the notebook displays.

    Example:
        >>> table(pd.DataFrame({"sku": ["A"], "units": [1200.0]}))._repr_markdown_().splitlines()[2]
        '| A | 1,200 |'
    """
    return Table(frame, caption, formats, max_rows, empty, labels)


@dataclass
class Tile:
    """One KPI tile.

    Attributes:
        label: What the number is.
        value: The number, formatted.
        detail: A line under the number (e.g. the target).
        status: Its colour: good, warn, bad or info.
    """

    label: str
    value: str
    detail: str = ""
    status: str = "info"


@dataclass
class Tiles:
    """A row of KPI tiles, displayed as HTML or as Typst for the PDF pack (see `tiles`).

    Attributes:
        tiles: The tiles, in display order.
    """

    tiles: Sequence[Tile]

    def _repr_html_(self) -> str:
        parts = ['<div class="so-tiles" style="display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 16px">']
        for t in self.tiles:
            colour = _STATUS_COLOURS.get(t.status, _STATUS_COLOURS["info"])
            parts.append(
                f'<div class="so-tile" style="border-left:6px solid {colour};padding:8px 14px;'
                f'background:#f6f7f9;min-width:150px">'
                f'<div style="font-size:12px;color:#555">{html.escape(t.label)}</div>'
                f'<div style="font-size:22px;font-weight:600;color:{colour}">{html.escape(t.value)}</div>'
                f'<div style="font-size:12px;color:#555">{html.escape(t.detail)}</div></div>'
            )
        parts.append("</div>")
        return "".join(parts)

    def _repr_markdown_(self) -> str:
        items = ", ".join(
            f"({_typst_string(t.label)}, {_typst_string(t.value)}, {_typst_string(t.detail)}, "
            f"rgb({_typst_string(_STATUS_COLOURS.get(t.status, _STATUS_COLOURS['info']))}))"
            for t in self.tiles
        )
        return f"```{{=typst}}\n#kpi-tiles(({items},))\n```\n"

    def __repr__(self) -> str:
        return "  ".join(f"{t.label}: {t.value} ({t.detail})" for t in self.tiles)


def tiles(items: Iterable[Tile | tuple]) -> Tiles:
    """KPI tiles: each a `Tile(label, value, detail, status)` with status good, warn, bad or info.

    Args:
        items: `Tile`s, or tuples of a `Tile`'s arguments.

    Returns:
        The `Tiles` the notebook displays.

    Example:
        >>> tiles([("Fill rate", "97%", "target 95%", "good")])
        Fill rate: 97% (target 95%)
    """
    return Tiles([i if isinstance(i, Tile) else Tile(*i) for i in items])


@dataclass
class Callout:
    """A highlighted sentence (see `callout`).

    Attributes:
        text: The sentence (escaped when displayed).
        kind: Its colour: good, warn, bad or info.
    """

    text: str
    kind: str = "info"

    def _repr_html_(self) -> str:
        colour = _STATUS_COLOURS.get(self.kind, _STATUS_COLOURS["info"])
        return (
            f'<div class="so-callout" style="border-left:4px solid {colour};background:#f6f7f9;'
            f'padding:8px 12px;margin:8px 0">{html.escape(_no_paths(self.text))}</div>'
        )

    def _repr_markdown_(self) -> str:
        return f"> {_md_escape(_no_paths(self.text))}\n"

    def __repr__(self) -> str:
        return self.text


def callout(text: str, kind: str = "info") -> Callout:
    """A highlighted sentence (kind: good, warn, bad, info); the text is escaped.

    Args:
        text: The sentence.
        kind: Its colour: good, warn, bad or info.

    Returns:
        The `Callout` the notebook displays.

    Example:
        >>> callout("Demand is 4% above plan.", "warn")._repr_markdown_()
        '> Demand is 4% above plan.\\n'
    """
    return Callout(text, kind)


@dataclass
class Bullets:
    """A bullet list of sentences (see `bullets`).

    Attributes:
        items: The sentences (escaped when displayed).
    """

    items: Sequence[str]

    def _repr_html_(self) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(_no_paths(i))}</li>" for i in self.items) + "</ul>"

    def _repr_markdown_(self) -> str:
        return "\n".join(f"- {_md_escape(_no_paths(i))}" for i in self.items) + "\n"

    def __repr__(self) -> str:
        return "\n".join(f"- {i}" for i in self.items)


def bullets(items: Iterable[str]) -> Bullets:
    """A bullet list of sentences (escaped).

    Args:
        items: The sentences.

    Returns:
        The `Bullets` the notebook displays.

    Example:
        >>> bullets(["One.", "Two."])._repr_markdown_()
        '- One.\\n- Two.\\n'
    """
    return Bullets(list(items))
