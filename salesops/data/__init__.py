"""Step 1 of the cycle: sources, the data contract, validation, the demo company and the period snapshot.

Example:
    >>> import salesops as so
    >>> p = so.params.load(period="2026-11", out="/tmp/so-doc")
    >>> [f for f in so.data.check(p) if f.is_error]
    []
"""

from __future__ import annotations

from .contract import STAGES, TABLE_NAMES, TABLES
from .demo import DEMO_LAST_MONTH, demo_source, generate_demo, write_demo
from .findings import Finding, cap
from .overview import (
    changes_note,
    changes_since_last_period,
    coverage,
    coverage_chart,
    findings_summary,
    findings_table,
    quality_note,
    row_counts,
    row_counts_by_table,
    row_counts_chart,
    sources_table,
    summary_tiles,
)
from .snapshot import Collection, check, collect, demand_history, run, snapshot
from .sources import load_tables

__all__ = [
    "DEMO_LAST_MONTH",
    "STAGES",
    "TABLES",
    "TABLE_NAMES",
    "Collection",
    "Finding",
    "cap",
    "changes_note",
    "changes_since_last_period",
    "check",
    "collect",
    "coverage",
    "coverage_chart",
    "demand_history",
    "demo_source",
    "findings_summary",
    "findings_table",
    "generate_demo",
    "load_tables",
    "quality_note",
    "row_counts",
    "row_counts_by_table",
    "row_counts_chart",
    "run",
    "snapshot",
    "sources_table",
    "summary_tiles",
    "write_demo",
]
