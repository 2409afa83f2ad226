"""Test harness: one real PostgreSQL 15 + pg_cron server per run, a template database, clones.

The server is the project's own embedded cluster (deployer.embedded), started in a temporary
folder with pg_cron preloaded (`cron.database_name = zorina_cron`). The pack is applied once
into `zorina_template` (with the reference source schema, without jobs); each test gets its own
`CREATE DATABASE ... TEMPLATE zorina_template` clone, dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.rows import dict_row

from deployer import apply as apply_mod
from deployer.cli import main as cli_main
from deployer.embedded import EmbeddedCluster

CRON_DATABASE = "zorina_cron"
TEMPLATE = "zorina_template"
FAST_SETTINGS = {  # a throwaway test server: durability buys nothing here
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def cluster():
    home = Path(tempfile.mkdtemp(prefix="zorina-test-", dir=os.environ.get("ZORINA_TEST_TMP", "/tmp")))
    os.chmod(home, 0o755)
    cluster = EmbeddedCluster(home / "cluster", dbname=CRON_DATABASE, extra_settings=FAST_SETTINGS)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


def admin(cluster) -> psycopg.Connection:
    return psycopg.connect(cluster.dsn("postgres"), autocommit=True)


def create_database(cluster, name: str, template: str | None = None) -> str:
    with admin(cluster) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return cluster.dsn(name)


def drop_database(cluster, name: str) -> None:
    with psycopg.connect(cluster.dsn(CRON_DATABASE), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('cron.job')").fetchone()[0] is not None:
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE database = %s", [name])
    with admin(cluster) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_dsn(cluster):
    dsn = create_database(cluster, TEMPLATE)
    apply_mod.apply(dsn, with_source_schema=True, schedule_jobs=False)
    return dsn


@pytest.fixture
def new_database(cluster, request):
    """Factory: an empty database (template=True: a clone of the applied template)."""
    created = []

    def make(template: bool = False, name: str | None = None) -> str:
        if template:
            request.getfixturevalue("template_dsn")
        name = name or f"test_{os.getpid()}_{next(_counter)}"
        created.append(name)
        return create_database(cluster, name, TEMPLATE if template else None)

    yield make
    for name in created:
        drop_database(cluster, name)


@pytest.fixture
def dsn(template_dsn, new_database):
    """A fresh clone of the applied template: source schema + the pack, no data."""
    return new_database(template=True)


@pytest.fixture
def conn(dsn):
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as connection:
        # a session zone far from UTC: no result may depend on it
        connection.execute("SET TimeZone = 'Pacific/Auckland'")
        yield connection


# -- loading source rows --------------------------------------------------------------------

TABLE_ORDER = ("organizations", "locations", "square_existing_clients", "bookings", "payments",
               "referral_profiles", "referral_rewards")
ZONELESS_COLUMNS = {("payments", "created_at"), ("payments", "updated_at")}


def _db_value(table, column, value):
    if (table, column) in ZONELESS_COLUMNS and value is not None and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, dict):
        return psycopg.types.json.Jsonb(value)
    return value


def load(conn, data: dict) -> None:
    """Insert rows given as {table: [row dicts]} with COPY (tables in foreign-key order)."""
    with conn.cursor() as cur:
        for table in TABLE_ORDER:
            rows = data.get(table) or []
            if not rows:
                continue
            columns = list(rows[0])
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_db_value(table, c, row.get(c)) for c in columns])


def refresh(conn, mode="full", organization_id=None, as_of=None) -> dict:
    return conn.execute(
        "SELECT * FROM refresh_customer_analytics(%s, organization_id => %s, as_of => coalesce(%s, now()))",
        [mode, organization_id, as_of]).fetchone()


SEED_AS_OF = "2026-06-15 12:00+00"


def seeded_database(new_database, organizations: int, customers: int, seed: int, years: int = 3) -> str:
    """A new database with the pack and `zorina-db seed`'s data at a fixed as_of (deterministic)."""
    dsn = new_database(template=True)
    seeded = CliRunner().invoke(cli_main, ["seed", "--dsn", dsn, "--orgs", str(organizations),
                                           "--customers", str(customers), "--years", str(years),
                                           "--seed", str(seed), "--as-of", SEED_AS_OF])
    assert seeded.exit_code == 0, seeded.output
    return dsn


def capture_plans(conn) -> list[str]:
    """The executed plan of every statement from now on, nested ones (inside the pack's
    functions) included, as auto_explain logs them to this session: the list fills as they run."""
    plans: list[str] = []
    conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
    conn.execute("LOAD 'auto_explain'")
    for setting, value in (("log_min_duration", "0"), ("log_analyze", "on"),
                           ("log_nested_statements", "on"), ("log_timing", "off")):
        conn.execute(f"SET auto_explain.{setting} = {value}")
    conn.execute("SET client_min_messages = log")
    return plans


def table_rows(conn, organization_id=None) -> dict:
    """customer_analytics as {(organization_id, square_customer_id): row without bookkeeping}."""
    rows = conn.execute(
        "SELECT * FROM customer_analytics WHERE %s::uuid IS NULL OR organization_id = %s",
        [organization_id, organization_id]).fetchall()
    # in UTC: PEP 495 makes a datetime in a repeated (DST) hour unequal to every other zone's
    return {(r["organization_id"], r["square_customer_id"]):
            {k: (v.astimezone(timezone.utc) if isinstance(v, datetime) else v)
             for k, v in r.items() if k not in ("created_at", "updated_at")} for r in rows}


def segment_counts(conn) -> tuple[dict, dict]:
    """(the maintained summary analytics_segment_counts, the same counted from customer_analytics)."""
    stored = {(r["organization_id"], r["customer_segment"]): r["customers"] for r in conn.execute(
        "SELECT organization_id, customer_segment, customers FROM analytics_segment_counts")}
    counted = {(r["organization_id"], r["customer_segment"]): r["n"] for r in conn.execute(
        "SELECT organization_id, customer_segment, count(*) AS n FROM customer_analytics GROUP BY 1, 2")}
    return stored, counted


def customer_row(conn, organization_id, customer_id) -> dict | None:
    return table_rows(conn, organization_id).get((organization_id, customer_id))


@pytest.fixture
def server_tmp(tmp_path):
    """tmp_path made reachable by the unprivileged server user (pytest makes it 0700 under root)."""
    os.chmod(tmp_path, 0o755)
    for parent in tmp_path.parents:
        if not os.stat(parent).st_mode & 0o001:
            os.chmod(parent, os.stat(parent).st_mode | 0o001)
    return tmp_path
