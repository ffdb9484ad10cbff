"""Runs statsforecast models on a train file; executed with .venv-bench's Python (pandas<3 there).

usage: python _statsforecast_run.py TRAIN.parquet OUT.parquet HORIZON SEASON MODELS(comma) N_JOBS [LEVELS(comma)]
With LEVELS (e.g. 80,95) the output has statsforecast's `MODEL-lo-L` and `MODEL-hi-L` columns too.
Prints the elapsed fit+predict seconds on stdout.
"""

import sys
import time

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoCES, AutoETS, AutoTheta

train_path, out_path, horizon, season, names, n_jobs = sys.argv[1:7]
levels = [int(v) for v in sys.argv[7].split(",") if v] if len(sys.argv) > 7 else []
season = int(season)
catalogue = {"AutoETS": AutoETS, "AutoTheta": AutoTheta, "AutoARIMA": AutoARIMA, "AutoCES": AutoCES}
models = [catalogue[n](season_length=season) for n in names.split(",")]
train = pd.read_parquet(train_path)
sf = StatsForecast(models=models, freq="MS", n_jobs=int(n_jobs))
start = time.perf_counter()
fc = sf.forecast(df=train, h=int(horizon), level=levels or None)
elapsed = time.perf_counter() - start
fc = fc.reset_index() if "unique_id" not in fc.columns else fc
fc.to_parquet(out_path, index=False)
print(f"{elapsed:.3f}")
