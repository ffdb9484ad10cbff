"""The data contract: every input table, its columns, their kinds, keys and allowed ranges.

`TABLES[name]` describes one table of ../shared/CONTRACT.md. Validation (`validate.py`) and
normalisation read these specs; nothing else hard-codes column names.

Example:
    >>> TABLES["products"].key
    ('sku',)
    >>> [c.name for c in TABLES["sales"].columns if c.required]
    ['date', 'sku', 'quantity']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "number", "date", "month"]

STAGES = ("prospecting", "qualified", "proposal", "won", "lost")
OPEN_STAGES = ("prospecting", "qualified", "proposal")
# common CRM spellings that normalise without a `values:` mapping
STAGE_ALIASES = {
    "prospect": "prospecting",
    "lead": "prospecting",
    "new": "prospecting",
    "qualification": "qualified",
    "qualify": "qualified",
    "discovery": "qualified",
    "proposal/price quote": "proposal",
    "quote": "proposal",
    "negotiation": "proposal",
    "negotiation/review": "proposal",
    "engaging": "proposal",
    "commit": "proposal",
    "closed won": "won",
    "closed-won": "won",
    "closed_won": "won",
    "win": "won",
    "closed lost": "lost",
    "closed-lost": "lost",
    "closed_lost": "lost",
    "loss": "lost",
}
# a number bigger than this in any numeric column is an export error, not a business fact
MAX_NUMBER = 1e12


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Attributes:
        name: The column's name, as the data must spell it (after the params `tables` mapping).
        kind: What it holds: `text`, `number`, `date` or `month` (`YYYY-MM`).
        required: Whether the table must have the column (optional ones may be missing).
        allow_empty: Whether a row may leave the column empty.
        min: The smallest value allowed (numbers), or None for no lower bound.
        max: The largest value allowed (numbers), or None for no upper bound.
    """

    name: str
    kind: Kind
    required: bool = True
    allow_empty: bool = False
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Table:
    """One input table of the contract: its columns, key and whether it may be empty.

    Attributes:
        name: The table's name (`sales`, `products`, ...).
        columns: Its columns, required and optional.
        key: The columns that identify a row (no two rows share them); empty for no key.
        must_have_rows: Whether the table must have at least one row.
        description: What the table holds, in a few words.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    must_have_rows: bool = True
    description: str = ""

    def column(self, name: str) -> Column | None:
        """The column named `name`.

        Args:
            name: The column's name.

        Returns:
            The column, or None when the table has no column of that name.

        Example:
            >>> TABLES["products"].column("lot_size").min
            1
        """
        return next((c for c in self.columns if c.name == name), None)

    @property
    def required(self) -> list[str]:
        """The names of the columns the table must have."""
        return [c.name for c in self.columns if c.required]


def _c(name: str, kind: Kind, required: bool = True, **kw) -> Column:
    return Column(name, kind, required, **kw)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "sales",
            (
                _c("date", "date"),
                _c("sku", "text"),
                _c("quantity", "number", min=0),
                _c("revenue", "number", False, allow_empty=True),
                _c("customer", "text", False, allow_empty=True),
                _c("region", "text", False, allow_empty=True),
            ),
            description="sales transactions or monthly totals per SKU",
        ),
        Table(
            "products",
            (
                _c("sku", "text"),
                _c("family", "text"),
                _c("unit_price", "number", min=0),
                _c("unit_cost", "number", min=0),
                _c("resource", "text", False, allow_empty=True),
                _c("hours_per_unit", "number", False, allow_empty=True, min=0),
                _c("lead_time_months", "number", False, allow_empty=True, min=0),
                _c("status", "text", False, allow_empty=True),
                _c("lot_size", "number", False, allow_empty=True, min=1),
                _c("min_order", "number", False, allow_empty=True, min=0),
            ),
            key=("sku",),
            description="the product master",
        ),
        Table(
            "inventory",
            (
                _c("sku", "text"),
                _c("on_hand", "number", min=0),
                _c("safety_stock", "number", False, allow_empty=True, min=0),
                _c("location", "text", False, allow_empty=True),
            ),
            key=("sku", "location"),
            must_have_rows=False,
            description="stock on hand at the start of the period",
        ),
        Table(
            "capacity",
            (
                _c("resource", "text"),
                _c("month", "month"),
                _c("hours", "number", min=0),
                _c("overtime_hours", "number", False, allow_empty=True, min=0),
                _c("cost_per_hour", "number", False, allow_empty=True, min=0),
            ),
            key=("resource", "month"),
            description="available production hours per resource and month",
        ),
        Table(
            "supply",
            (
                _c("sku", "text"),
                _c("month", "month"),
                _c("quantity", "number", min=0),
                _c("kind", "text", False, allow_empty=True),
            ),
            must_have_rows=False,
            description="open purchase and production orders",
        ),
        Table(
            "budget",
            (
                _c("family", "text"),
                _c("month", "month"),
                _c("revenue", "number", min=0),
                _c("units", "number", False, allow_empty=True, min=0),
            ),
            key=("family", "month"),
            must_have_rows=False,
            description="the financial plan per family and month",
        ),
        Table(
            "opportunities",
            (
                _c("opportunity_id", "text"),
                _c("rep", "text"),
                _c("stage", "text"),
                _c("amount", "number", allow_empty=True, min=0),
                _c("created_date", "date", allow_empty=True),
                _c("close_date", "date", allow_empty=True),
                _c("account", "text", False, allow_empty=True),
                _c("sku", "text", False, allow_empty=True),
                _c("units", "number", False, allow_empty=True, min=0),
                _c("probability", "number", False, allow_empty=True, min=0, max=1),
            ),
            key=("opportunity_id",),
            must_have_rows=False,
            description="the CRM pipeline",
        ),
        Table(
            "reps",
            (
                _c("rep", "text"),
                _c("team", "text"),
                _c("region", "text"),
                _c("start_date", "date", False, allow_empty=True),
            ),
            key=("rep",),
            must_have_rows=False,
            description="sales reps, their teams and regions",
        ),
        Table(
            "quotas",
            (_c("rep", "text"), _c("month", "month"), _c("quota", "number", min=0)),
            key=("rep", "month"),
            must_have_rows=False,
            description="revenue quota per rep and month",
        ),
        Table(
            "survey",
            (
                _c("respondent", "text"),
                _c("team", "text"),
                _c("date", "date"),
                _c("score", "number", min=0, max=10),
                _c("question", "text", False, allow_empty=True),
            ),
            must_have_rows=False,
            description="employee NPS answers (0 to 10)",
        ),
        Table(
            "accounts",
            (
                _c("account", "text"),
                _c("sector", "text", False, allow_empty=True),
                _c("employees", "number", False, allow_empty=True, min=0),
                _c("revenue", "number", False, allow_empty=True, min=0),
                _c("owner", "text", False, allow_empty=True),
                _c("region", "text", False, allow_empty=True),
            ),
            key=("account",),
            must_have_rows=False,
            description="optional: customer accounts (sector, size, owner) for win scoring and territories",
        ),
        Table(
            "opportunity_history",
            (_c("opportunity_id", "text"), _c("stage", "text"), _c("date", "date")),
            must_have_rows=False,
            description="optional: each deal's stage changes with their dates (the stage at any earlier day)",
        ),
    )
}

TABLE_NAMES = tuple(TABLES)

# What each step reads: tables it cannot run without, and tables it uses when present (a missing
# one is a warning). Tables and columns needed only by steps a company does not run (params `steps`)
# are not required. Columns listed in COLUMN_STEPS are required only when one of those steps runs.
STEP_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "data_collection": ((), ()),
    "sales_performance": (
        ("opportunities", "reps", "quotas"),
        ("products", "survey", "accounts", "opportunity_history"),
    ),
    "demand_planning": (("sales", "products"), ()),
    "supply_planning": (("sales", "products", "inventory", "capacity", "supply"), ()),
    "pre_sop": (("sales", "products", "inventory", "capacity", "supply", "budget"), ()),
    "executive_review": (("sales", "products", "budget"), ("survey",)),
    "follow_up": (("sales", "products"), ()),
}
COLUMN_STEPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("products", "unit_cost"): ("supply_planning", "pre_sop", "executive_review"),
}
ALL_STEPS = tuple(STEP_TABLES)


def needed(steps=None) -> tuple[set[str], set[str]]:
    """The tables the listed steps cannot run without, and those they use when present.

    Args:
        steps: The step names a company runs (params `steps`); None = every step, when every table but
            the optional `accounts` and `opportunity_history` is required, as before steps existed.

    Returns:
        `(required, optional)` table names.

    Example:
        >>> sorted(needed(["data_collection", "sales_performance"])[0])
        ['opportunities', 'quotas', 'reps']
    """
    steps = ALL_STEPS if steps is None else tuple(steps)
    required = {t for s in steps for t in STEP_TABLES.get(s, ((), ()))[0]}
    optional = {t for s in steps for t in STEP_TABLES.get(s, ((), ()))[1]} - required
    if set(ALL_STEPS) <= set(steps):
        required |= set(TABLE_NAMES) - {"accounts", "opportunity_history"}
        optional -= required
    return required, optional


def column_needed(table: str, column: str, steps=None) -> bool:
    """Whether a required column of the contract is needed by the listed steps.

    Args:
        table: The table.
        column: The column.
        steps: The step names a company runs; None = every step.

    Returns:
        False only for a column listed in `COLUMN_STEPS` whose steps are all left out.

    Example:
        >>> column_needed("products", "unit_cost", ["data_collection", "sales_performance"])
        False
    """
    users = COLUMN_STEPS.get((table, column))
    if users is None or steps is None:
        return True
    return any(s in users for s in steps)
