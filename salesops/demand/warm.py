"""Warm the forecast cache for the periods of a backfill, ahead of their demand planning steps.

A backfill runs its periods one after another, and most of a period's steps use one core. This
module runs beside them, in a process of its own on one core: for each later period it builds the
history that period's demand step will fit (`plan_history`) and makes its statistical forecast
through the shared cache (`statistical_forecast`). When the step comes, its forecast and its
backtest windows (the forecasts of the cycles before) are cache hits; a forecast not warmed yet is
simply fitted by the step, with the same result.

    python -m salesops.demand.warm --out reports 2026-06 2026-07 [--params FILE] [--data SOURCE]
"""

from __future__ import annotations

import argparse
import sys

from .. import params as params_mod
from ..exceptions import SalesOpsError
from .planning import forecast_cache, plan_history, statistical_forecast

__all__ = ["warm"]


def warm(periods: list[str], out: str, params: list[str] | str | None = None, data: str | None = None) -> int:
    """Forecast each period's history into the cache of `out`, one core, in order.

    Args:
        periods: The periods to warm (`YYYY-MM`), in the order the backfill reaches them.
        out: The reports folder whose cache to fill.
        params: The params file(s) the backfill uses (None = the defaults).
        data: The data source the backfill uses (None = the one in params).

    Returns:
        The number of periods warmed.
    """
    from ..data import snapshot

    done = 0
    for period in periods:
        try:
            p = params_mod.load(period=period, params=params, data=data, out=out)
            history = snapshot(p).demand_history
            hist, _ = plan_history(history, period)
        except SalesOpsError:  # the period's own run will say what is wrong
            continue
        statistical_forecast(hist, p.demand, forecast_cache(p.demand, p.out), workers=1)
        done += 1
    return done


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m salesops.demand.warm --out OUT PERIOD ...`.

    Args:
        argv: The arguments (default: the command line's).

    Returns:
        The exit code (0).
    """
    parser = argparse.ArgumentParser(
        prog="python -m salesops.demand.warm", description=__doc__.splitlines()[0]
    )
    parser.add_argument("periods", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--params", action="append")
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    params = args.params[0] if args.params and len(args.params) == 1 else args.params
    warm(args.periods, args.out, params, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
