"""Step outputs: tidy frames written as Parquet under `RUN_DIR/data/<step>/<name>.parquet`.

Each step reads what earlier steps wrote (`read`) and writes its own products (`write`); raw inputs
are never touched.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .exceptions import DataError


class StepStore:
    """Reads and writes the products of one run (`run_dir` is `OUT/PERIOD` or its build folder)."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.data_dir = self.run_dir / "data"

    def path(self, step: str, name: str) -> Path:
        return self.data_dir / step / f"{name}.parquet"

    def exists(self, step: str, name: str) -> bool:
        return self.path(step, name).exists()

    def write(self, step: str, name: str, frame: pd.DataFrame) -> Path:
        """Write one product of `step`; returns its path."""
        path = self.path(step, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = frame.reset_index(drop=True) if not isinstance(frame.index, pd.RangeIndex) else frame
        frame.to_parquet(path, index=False)
        return path

    def read(self, step: str, name: str) -> pd.DataFrame:
        """Read one product an earlier step wrote; says which step to run when it is missing."""
        path = self.path(step, name)
        if not path.exists():
            raise DataError(
                f"{step}/{name} is missing in {self.data_dir}: run step '{step}' first "
                f"(salesops run PERIOD --from {step})"
            )
        return pd.read_parquet(path)
