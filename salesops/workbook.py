"""A step's products as one Excel workbook, a sheet per product, safe to open in a spreadsheet.

The runner writes `RUN_DIR/<report>.xlsx` beside each step's HTML report (`02_demand_planning.xlsx`
beside `02_demand_planning.html`); the report's banner links it. Text a spreadsheet would run as a
formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is neutralised by
`salesops.safety.neutralise_frame`; numbers stay numbers and months stay dates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .safety import neutralise_frame

__all__ = ["sheet_name", "write_step_workbook", "write_workbook"]

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str] | None = None) -> str:
    """A valid, unique Excel sheet name for a product (31 characters, none of `[]:*?/\\`).

    Args:
        name: The product's name.
        taken: Sheet names already used in the workbook (lower case).

    Returns:
        The sheet name.

    Example:
        >>> sheet_name("inventory_projection")
        'inventory_projection'
    """
    base = _SHEET_FORBIDDEN.sub("_", str(name)).strip("'")[:31] or "sheet"
    taken = taken if taken is not None else set()
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    taken.add(candidate.lower())
    return candidate


def _excel_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns Excel can hold: time zones dropped, lists and dicts as text, text neutralised."""
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_localize(None)
        elif pd.api.types.is_object_dtype(series):
            out[column] = series.map(lambda v: str(v) if isinstance(v, list | dict | tuple | set) else v)
    out.columns = [str(c) for c in out.columns]
    return neutralise_frame(out)


def write_workbook(products: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write products into one Excel workbook, a sheet per product, in the order given.

    Args:
        products: Frames by product name.
        path: The `.xlsx` file to write (replaced when it exists).

    Returns:
        The path written.

    Example:
        >>> write_workbook({"alerts": alerts, "bias": bias}, "run/06_follow_up.xlsx")  # doctest: +SKIP
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    taken: set[str] = set()
    with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, frame in products.items():
            _excel_ready(frame).to_excel(writer, sheet_name=sheet_name(name, taken), index=False)
        if not products:
            pd.DataFrame({"note": ["This step has no products."]}).to_excel(writer, index=False)
    tmp.replace(path)
    return path


def write_step_workbook(run_dir: str | Path, step) -> Path:
    """Write the products a step saved in a run as `RUN_DIR/<report>.xlsx`, beside its HTML report.

    Args:
        run_dir: The run's folder.
        step: The step (`salesops.steps.Step`).

    Returns:
        The workbook's path.

    Example:
        >>> write_step_workbook("reports/2026-11", steps.get("follow_up"))  # doctest: +SKIP
    """
    from .store import StepStore

    store = StepStore(run_dir)
    products = {name: store.read(step.name, name, default=None) for name in step.products}
    found = {name: frame for name, frame in products.items() if frame is not None}
    return write_workbook(found, Path(run_dir) / f"{Path(step.report).stem}.xlsx")
