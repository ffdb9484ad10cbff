"""Sources: folders of CSV/Parquet/Excel, a workbook, DuckDB and SQLAlchemy URLs all give the same snapshot."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
from data_fixtures import SMALL, make_params, tree_digest

import salesops as so
from salesops.data import generate_demo
from salesops.data.snapshot import content_hash, normalise
from salesops.data.sources import read_source
from salesops.data.validate import parse_tables
from salesops.exceptions import DataError


@pytest.fixture(scope="module")
def frames():
    return generate_demo(**SMALL)


def _snapshot_hash(p):
    raw = read_source(p)
    typed, findings = parse_tables(raw, p.period_start)
    assert [str(f) for f in findings if f.is_error] == []
    return content_hash(normalise(typed, p.period_start), p.period)


@pytest.fixture(scope="module")
def csv_hash(frames, tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    so.data.write_demo(folder, **SMALL)
    return _snapshot_hash(make_params(folder, out=folder))


def test_parquet_folder_matches_csv(frames, csv_hash, tmp_path):
    for name, frame in frames.items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    assert _snapshot_hash(make_params(tmp_path, out=tmp_path / "out")) == csv_hash


def test_excel_folder_and_workbook_match_csv(frames, csv_hash, tmp_path):
    (tmp_path / "folder").mkdir()
    with pd.ExcelWriter(tmp_path / "company.xlsx") as book:
        for name, frame in frames.items():
            frame.to_excel(tmp_path / "folder" / f"{name}.xlsx", index=False)
            frame.to_excel(book, sheet_name=name, index=False)
    assert _snapshot_hash(make_params(tmp_path / "folder", out=tmp_path / "out")) == csv_hash
    assert _snapshot_hash(make_params(tmp_path / "company.xlsx", out=tmp_path / "out")) == csv_hash


def test_duckdb_file_matches_csv(frames, csv_hash, tmp_path):
    path = tmp_path / "company.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in frames.items():
        con.register("f", frame)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM f')
        con.unregister("f")
    con.close()
    assert _snapshot_hash(make_params(path, out=tmp_path / "out")) == csv_hash


def test_sqlalchemy_url_matches_csv(frames, csv_hash, tmp_path):
    url = f"sqlite:///{tmp_path / 'company.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        for name, frame in frames.items():
            frame.to_sql(name, con, index=False)
    engine.dispose()
    assert _snapshot_hash(make_params(url, out=tmp_path / "out")) == csv_hash


def test_columns_values_and_source_mappings(frames, tmp_path):
    data = tmp_path / "data"
    so.data.write_demo(data, **SMALL)
    opp = pd.read_csv(data / "opportunities.csv")
    crm_stage = {
        "prospecting": "Lead In",
        "qualified": "Discovery Call",
        "proposal": "Quote Sent",
        "won": "Closed Won",
        "lost": "Closed Lost",
    }
    export = opp.rename(columns={"rep": "Owner", "amount": "Deal Value"}).assign(
        stage=opp["stage"].map(crm_stage)
    )
    export.to_csv(data / "crm_export.csv", index=False)
    (data / "opportunities.csv").unlink()
    before = tree_digest(data)
    tables = {
        "opportunities": {
            "source": "crm_export",
            "columns": {"Owner": "rep", "Deal Value": "amount"},
            "values": {
                "stage": {"Lead In": "prospecting", "Discovery Call": "qualified", "Quote Sent": "proposal"}
            },
        }
    }
    p = make_params(data, out=tmp_path / "out", tables=tables)

    loaded = so.data.load_tables(p)["opportunities"]
    collection = so.data.collect(p, so.store.StepStore(tmp_path / "out" / "2026-11"))

    assert loaded["rep"].tolist() == opp["rep"].tolist()
    # "Closed Won"/"Closed Lost" need no mapping: common CRM spellings normalise by themselves
    assert collection.tables["opportunities"]["stage"].tolist() == opp["stage"].tolist()
    assert tree_digest(data) == before


def test_missing_source_names_the_fix(tmp_path):
    with pytest.raises(DataError) as caught:
        so.data.load_tables(make_params(tmp_path / "absent", out=tmp_path))
    assert str(caught.value) == (
        f"data source '{tmp_path / 'absent'}' does not exist; point data.source (or --data) "
        f"at a folder of <table>.csv files, a .duckdb file or an SQLAlchemy URL such as "
        f"postgresql+psycopg2://user@host/db"
    )


def test_password_in_url_is_refused_without_echoing_it(tmp_path):
    p = make_params("postgresql+psycopg2://planner:hunter2secret@db.example:5432/sop", out=tmp_path)
    with pytest.raises(DataError) as caught:
        so.data.check(p)
    assert "hunter2secret" not in str(caught.value)
    assert "SALESOPS_DB_PASSWORD" in str(caught.value)


def test_unreachable_database_error_names_url_not_password(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESOPS_TEST_SECRET", "s3cr3t-Pa55")
    p = make_params(
        "postgresql+psycopg2://planner@127.0.0.1:9/sop", out=tmp_path, password_env="SALESOPS_TEST_SECRET"
    )
    with pytest.raises(DataError) as caught:
        so.data.check(p)
    message = str(caught.value)
    assert message.startswith("cannot read the database postgresql+psycopg2://planner:***@127.0.0.1:9/sop:")
    assert "s3cr3t-Pa55" not in message and "SALESOPS_TEST_SECRET" in message


def test_database_types_timestamptz_and_decimal_normalise_like_text(frames, csv_hash, tmp_path):
    path = tmp_path / "typed.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    for name, frame in frames.items():
        con.register("f", frame)
        if name == "survey":
            con.execute("CREATE TABLE survey AS SELECT * REPLACE (CAST(date AS TIMESTAMPTZ) AS date) FROM f")
        elif name == "quotas":
            con.execute(
                "CREATE TABLE quotas AS SELECT * REPLACE (CAST(quota AS DECIMAL(14, 2)) AS quota, "
                "CAST(month AS DATE) AS month) FROM f"
            )
        else:
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM f')
        con.unregister("f")
    con.close()
    assert _snapshot_hash(make_params(path, out=tmp_path / "out")) == csv_hash
