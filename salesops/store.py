"""Step outputs: tidy frames written as Parquet under `RUN_DIR/data/<step>/<name>.parquet`.

Each step reads what earlier steps wrote (`read`) and writes its own products (`write`); raw inputs
are never touched. `ReportsStore` reads the published runs of earlier periods in the reports folder
(`OUT/<PERIOD>/data/...`), so no other module builds those paths itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .exceptions import DataError

PERIOD_FOLDER = re.compile(r"\d{4}-\d{2}")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of `read(..., default=REQUIRED)`: a missing product is an error."""


class StepStore:
    """Reads and writes the products of one run.

    Args:
        run_dir: The run's folder, `OUT/PERIOD` or its build folder; products live under `data/`.
    """

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.data_dir = self.run_dir / "data"

    def path(self, step: str, name: str, suffix: str = ".parquet") -> Path:
        """Where the product `name` of `step` lives.

        Args:
            step: The step that writes the product.
            name: The product's name.
            suffix: `.parquet` for frames, `.json` for a step's metadata.

        Returns:
            The file's path (which may not exist yet).
        """
        return self.data_dir / step / f"{name}{suffix}"

    def exists(self, step: str, name: str) -> bool:
        """Whether `step` wrote the product `name` in this run.

        Args:
            step: The step that writes the product.
            name: The product's name.

        Returns:
            True when the Parquet file is there.
        """
        return self.path(step, name).exists()

    def has_step(self, step: str) -> bool:
        """Whether this run holds any product of `step`.

        Args:
            step: A step name.

        Returns:
            True when the step's data folder exists.
        """
        return (self.data_dir / step).is_dir()

    def write(self, step: str, name: str, frame: pd.DataFrame) -> Path:
        """Write one product of `step`.

        Args:
            step: The step that owns the product.
            name: The product's name.
            frame: A tidy frame; its index is dropped.

        Returns:
            The path written.
        """
        path = self.path(step, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = frame.reset_index(drop=True) if not isinstance(frame.index, pd.RangeIndex) else frame
        frame.to_parquet(path, index=False)
        return path

    def read(self, step: str, name: str, default: Any = REQUIRED) -> pd.DataFrame:
        """Read one product an earlier step wrote.

        Args:
            step: The step that wrote the product.
            name: The product's name.
            default: What to return when the product is missing; without it a missing product is
                an error that says which step to run.

        Returns:
            The product as written, or `default`.

        Raises:
            DataError: The product is missing and no default was given.
        """
        path = self.path(step, name)
        if not path.exists():
            if default is not REQUIRED:
                return default
            raise DataError(
                f"{step}/{name} is missing in {self.data_dir}: run step '{step}' first "
                f"(salesops run PERIOD --from {step})"
            )
        return pd.read_parquet(path)

    def write_json(self, step: str, name: str, content: dict) -> Path:
        """Write a step's metadata (for example the data snapshot's description) as JSON.

        Args:
            step: The step that owns it.
            name: The file's name without suffix.
            content: A JSON-serialisable mapping (dates are written as text).

        Returns:
            The path written.
        """
        path = self.path(step, name, ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2, sort_keys=True, default=str), encoding="utf-8")
        return path

    def read_json(self, step: str, name: str, default: Any = REQUIRED) -> dict:
        """Read metadata written by `write_json`.

        Args:
            step: The step that wrote it.
            name: The file's name without suffix.
            default: Returned when the file is missing; without it a missing file is an error.

        Returns:
            The mapping, or `default`.

        Raises:
            DataError: The file is missing and no default was given.
        """
        path = self.path(step, name, ".json")
        if not path.exists():
            if default is not REQUIRED:
                return default
            raise DataError(f"{step}/{name}.json is missing in {self.data_dir}: run step '{step}' first")
        return json.loads(path.read_text(encoding="utf-8"))


class ReportsStore:
    """The reports folder: the published run of every period (`OUT/<PERIOD>/`).

    Args:
        out: The reports folder (`OUT`).
    """

    def __init__(self, out: str | Path):
        self.out = Path(out)

    def periods(self, before: str | None = None) -> list[str]:
        """Periods with a published run, oldest first.

        Args:
            before: Only periods earlier than this one (`YYYY-MM`).

        Returns:
            The periods' names.
        """
        if not self.out.is_dir():
            return []
        found = sorted(
            d.name for d in self.out.iterdir() if PERIOD_FOLDER.fullmatch(d.name) and (d / "data").is_dir()
        )
        return [p for p in found if before is None or p < before]

    def run(self, period: str) -> StepStore:
        """The store of one period's published run.

        Args:
            period: The period (`YYYY-MM`).

        Returns:
            A `StepStore` over `OUT/<period>/`.
        """
        return StepStore(self.out / period)

    def read(self, period: str, step: str, name: str, default: Any = REQUIRED) -> pd.DataFrame:
        """Read a product of an earlier period's published run.

        Args:
            period: The period (`YYYY-MM`).
            step: The step that wrote it.
            name: The product's name.
            default: Returned when it is missing; without it a missing product is an error.

        Returns:
            The product, or `default`.
        """
        return self.run(period).read(step, name, default=default)

    def collect(self, step: str, name: str, before: str | None = None) -> dict[str, pd.DataFrame]:
        """One product over every published period that has it.

        Args:
            step: The step that wrote it.
            name: The product's name.
            before: Only periods earlier than this one.

        Returns:
            The product of each period that has it, by period, oldest first.
        """
        found = {}
        for period in self.periods(before):
            frame = self.read(period, step, name, default=None)
            if frame is not None:
                found[period] = frame
        return found
