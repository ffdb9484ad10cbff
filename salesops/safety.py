"""Text that leaves salesops safely: spreadsheet cells, terminal lines, Typst strings.

Values from the data or from params are shown to people through three channels that each
interpret some characters: spreadsheets run cells starting with `=`, `+`, `-`, `@`, a tab or a
carriage return as formulas; terminals obey escape sequences; Typst reads `#`, `[` and `$` as code.
The helpers here make such values literal.

Example:
    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("-12.5")  # a number written as text stays a number
    '-12.5'
    >>> escape_control("a\\x1b[31mb")
    'a\\\\x1b[31mb'
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# C0 controls except newline, DEL and C1 controls: what a terminal may act on
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def neutralise_cell(value):
    """A text cell a spreadsheet would run as a formula gets a leading `'`; anything else is unchanged.

    Args:
        value: A cell value of any type; only text is changed.

    Returns:
        `value` with a leading `'` when it is text starting like a formula (and not a number
        written as text), else `value` itself.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells (and column names) cannot run as spreadsheet formulas.

    Numeric, date and boolean columns are left as they are: numbers stay numbers.

    Args:
        frame: The table to make safe; it is not modified.

    Returns:
        A copy of `frame` with its text cells and column names passed through `neutralise_cell`.

    Example:
        >>> neutralise_frame(pd.DataFrame({"id": ["@SUM(A1)", "ok"], "y": [-1.0, 2.0]}))["id"].tolist()
        ["'@SUM(A1)", 'ok']
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(neutralise_cell)
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def escape_control(text: str, keep_newlines: bool = True) -> str:
    """Control characters written as visible escapes (`\\x1b`), so a terminal prints them, never obeys them.

    Args:
        text: The text to show; converted with `str` first.
        keep_newlines: Leave newlines as they are (True) or escape them too, as `\\n` (False).

    Returns:
        The text with every control character (tab and carriage return as `\\t`, `\\r`) escaped.
    """
    pattern = _CONTROL if keep_newlines else _CONTROL_ALL

    def show(match: re.Match) -> str:
        ch = match.group(0)
        return {"\t": "\\t", "\r": "\\r", "\n": "\\n"}.get(ch) or f"\\x{ord(ch):02x}"

    return pattern.sub(show, str(text))


def typst_string(text: str) -> str:
    """`text` as a Typst string literal: shown as plain text, never read as markup or code.

    Args:
        text: The text to quote; converted with `str` first.

    Returns:
        A double-quoted Typst string with backslashes, quotes, newlines, carriage returns and tabs
        escaped.
    """
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return '"' + escaped + '"'
