"""Shared helpers for the data-collection tests (imported by tests/test_data_*.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import salesops as so

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SMALL = {"seed": 11, "skus": 30, "months": 24, "reps": 8}


def make_params(source=None, out="reports", period="2026-11", tables=None, **data):
    """Parameters for a test, independent of any params/*.yaml in the working folder."""
    values = {
        "period": period,
        "out": str(out),
        "data": {"source": None if source is None else str(source), **data},
    }
    if tables:
        values["data"]["tables"] = tables
    return so.params.validate(values)


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (to prove files were not touched)."""
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(Path(folder).rglob("*"))
        if f.is_file()
    }


def write_small_demo(tmp_path_factory) -> Path:
    """A small demo company written as CSV (each test module makes one; copy it before corrupting)."""
    folder = tmp_path_factory.mktemp("small-demo")
    so.data.write_demo(folder, **SMALL)
    return folder
