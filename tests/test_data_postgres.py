"""PostgreSQL as a source, against a real server.

Set SALESOPS_TEST_PG_URL (e.g. postgresql+psycopg2://salesops@127.0.0.1:5433/salesops) and the password in
SALESOPS_DB_PASSWORD. Without the URL these tests skip, except under CI (env CI set), where they fail.
See tests/README-postgres.md for starting a throwaway server.
"""

from __future__ import annotations

import json
import logging
import os
import uuid

import pytest
import sqlalchemy as sa
from data_fixtures import SMALL, make_params, write_small_demo

import salesops as so
from salesops.data import generate_demo
from salesops.data.sources import describe_source
from salesops.exceptions import DataError

URL = os.environ.get("SALESOPS_TEST_PG_URL")
if not URL and os.environ.get("CI"):
    pytest.fail(
        "CI is set but SALESOPS_TEST_PG_URL is not: the PostgreSQL source must be tested in CI "
        "(see tests/README-postgres.md)",
        pytrace=False,
    )
pytestmark = pytest.mark.skipif(
    not URL, reason="SALESOPS_TEST_PG_URL is not set (see tests/README-postgres.md)"
)

PASSWORD_ENV = "SALESOPS_DB_PASSWORD"
# the URL as messages show it: the user kept, the password (when there is one) masked
SAFE_URL = (URL or "").replace("@", ":***@", 1) if os.environ.get(PASSWORD_ENV) else URL


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return write_small_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def schema():
    """A fresh schema holding the small demo company; dropped afterwards."""
    name = f"salesops_test_{uuid.uuid4().hex[:10]}"
    url = sa.engine.make_url(URL).set(password=os.environ.get(PASSWORD_ENV))
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        for table, frame in generate_demo(**SMALL).items():
            frame.to_sql(table, con, schema=name, index=False)
    yield name
    with engine.begin() as con:
        con.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


def _params(schema, out, **data):
    tables = {t: {"source": f"{schema}.{t}"} for t in so.data.TABLE_NAMES}
    return make_params(URL, out=out, tables=tables, **data)


def test_postgres_gives_the_same_snapshot_as_csv(schema, small_demo, tmp_path):
    pg = so.data.collect(_params(schema, tmp_path / "pg"), so.store.StepStore(tmp_path / "pg" / "2026-11"))
    csv = so.data.collect(
        make_params(small_demo, out=tmp_path / "csv"), so.store.StepStore(tmp_path / "csv" / "2026-11")
    )
    assert [f for f in pg.findings if f.is_error] == []
    assert pg.input_hash == csv.input_hash


def test_missing_postgres_table_is_a_finding(schema, tmp_path):
    p = _params(schema, tmp_path)
    p.data.tables["survey"].source = f"{schema}.no_such_table"
    lines = [str(f) for f in so.data.check(p)]
    assert (
        f"survey: table is missing from database {SAFE_URL}; add a table named {schema}.no_such_table or name the "
        f"source table in data.tables.survey.source"
    ) in lines


def test_password_appears_in_no_output(schema, tmp_path, caplog, capsys):
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        pytest.skip(f"{PASSWORD_ENV} is not set: the server needs no password")
    caplog.set_level(logging.DEBUG)
    p = _params(schema, tmp_path)
    store = so.store.StepStore(tmp_path / "2026-11")
    collection = so.data.collect(p, store)
    texts = [
        repr(p),
        str(p.model_dump()),
        describe_source(p),
        collection.sources.to_csv(),
        "\n".join(str(f) for f in collection.findings),
        (store.data_dir / "data_collection" / "snapshot.json").read_text(),
    ]
    texts += [f.read_bytes().decode("latin-1") for f in (tmp_path).rglob("*") if f.is_file()]
    bad = _params(schema, tmp_path, password_env="SALESOPS_TEST_WRONG_PASSWORD")
    os.environ["SALESOPS_TEST_WRONG_PASSWORD"] = password + "-wrong"
    try:
        with pytest.raises(DataError) as caught:
            so.data.check(bad)
    finally:
        del os.environ["SALESOPS_TEST_WRONG_PASSWORD"]
    texts.append(str(caught.value))
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    assert "password authentication failed" in str(caught.value)
    assert "SALESOPS_TEST_WRONG_PASSWORD" in str(caught.value)
    for text in texts:
        assert password not in text


def test_snapshot_names_the_url_without_password(schema, tmp_path):
    p = _params(schema, tmp_path)
    store = so.store.StepStore(tmp_path / "2026-11")
    so.data.collect(p, store)
    meta = json.loads((store.data_dir / "data_collection" / "snapshot.json").read_text())
    assert meta["source"] == SAFE_URL
