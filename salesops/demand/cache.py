"""A content-addressed cache of forecasts, so work done for one period is not done again for the next.

A forecast is a pure function of the series' history, its first month, the horizon, the season
length, the interval levels and the forecasting code. The cache keys each series' forecast by a
sha256 of exactly those, so a hit returns the very rows a fresh fit would give: a period's backtest
windows are the forecasts that earlier periods made at those origins, and a rerun reuses its own.
Anything that changes the inputs (a revised sale, another horizon, an edited model) changes the key.

Entries live under `OUT/.cache/forecasts/<settings>/<first month>.parquet`; files are replaced
atomically, so a crash or a concurrent run costs at most a recomputation.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ForecastCache", "code_version"]

_CODE_FILES = ("models.py", "auto.py", "engine.py", "cache.py")
_LIBRARIES = ("numpy", "scipy", "statsmodels", "pandas")


@functools.cache
def code_version() -> str:
    """A digest of the forecasting code and the numerical libraries' versions.

    Returns:
        A hex digest that changes whenever the models, the engine or a library version changes.
    """
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _CODE_FILES:
        digest.update((here / name).read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(name.encode())
    return digest.hexdigest()


class ForecastCache:
    """Forecast rows by series content, for the default model only.

    Args:
        folder: Where entries live (the runner uses `OUT/.cache/forecasts`).
        horizon: The horizon the forecasts were made for.
        season_length: The season length.
        levels: The interval levels.
    """

    def __init__(self, folder: str | Path, horizon: int, season_length: int, levels: Sequence[int]):
        settings = f"{code_version()}|h={horizon}|m={season_length}|levels={tuple(levels)}"
        self.folder = Path(folder) / hashlib.sha256(settings.encode()).hexdigest()[:16]

    @staticmethod
    def key(y: np.ndarray, first: pd.Timestamp) -> str:
        """The cache key of one series' forecast.

        Args:
            y: The history the model is fitted on.
            first: The first month forecast.

        Returns:
            A hex digest of the history's values and the first month.
        """
        digest = hashlib.sha256(np.ascontiguousarray(y, dtype=np.float64).tobytes())
        digest.update(pd.Timestamp(first).strftime("%Y-%m").encode())
        return digest.hexdigest()

    def _path(self, first: pd.Timestamp) -> Path:
        return self.folder / f"{pd.Timestamp(first):%Y-%m}.parquet"

    def get_rows(self, wanted: dict[str, pd.Timestamp]) -> pd.DataFrame:
        """The cached forecasts among `wanted`, as stored: one frame, every key's rows in a block.

        Args:
            wanted: Cache keys with the first month each forecast starts at.

        Returns:
            The rows of every key found, with `_key` and `_columns` (the tab-separated columns that
            key's series had; the others are empty for it); no rows when none is found.
        """
        by_first: dict[pd.Timestamp, set[str]] = {}
        for key, first in wanted.items():
            by_first.setdefault(pd.Timestamp(first), set()).add(key)
        parts = []
        for first, keys in by_first.items():
            path = self._path(first)
            if not path.exists():
                continue
            try:
                stored = pd.read_parquet(path)
            except (OSError, ValueError):  # a damaged entry is a miss
                continue
            parts.append(stored[stored["_key"].isin(keys)])
        if not parts:
            return pd.DataFrame(columns=["_key", "_columns"])
        return pd.concat(parts, ignore_index=True)

    def put(self, fresh: dict[str, pd.DataFrame]) -> None:
        """Store freshly made forecasts.

        Args:
            fresh: Rows by cache key, without id columns (a key's rows as `get_rows` holds them, without `_key` and `_columns`).
        """
        by_first: dict[pd.Timestamp, list[pd.DataFrame]] = {}
        for key, rows in fresh.items():
            tagged = rows.assign(_key=key, _columns="\t".join(rows.columns))
            by_first.setdefault(pd.Timestamp(rows["ds"].iloc[0]), []).append(tagged)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for first, parts in by_first.items():
                path = self._path(first)
                if path.exists():
                    try:
                        old = pd.read_parquet(path)
                        parts = [old[~old["_key"].isin(fresh)], *parts]
                    except (OSError, ValueError):
                        pass
                handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=self.folder)
                os.close(handle)
                try:
                    pd.concat(parts, ignore_index=True).to_parquet(tmp, index=False)
                    os.replace(tmp, path)
                finally:
                    Path(tmp).unlink(missing_ok=True)
        except OSError:  # a cache that cannot be written only costs time
            return
