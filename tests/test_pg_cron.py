"""pg_cron: apply creates the extension and the pack's jobs where pg_cron is preloaded,
schedules across databases with cron.schedule_in_database, and keeps a DBA's changes.
Where pg_cron is not preloaded, apply installs everything else and says how to enable it."""

import json

import psycopg
import pytest
from click.testing import CliRunner

from conftest import CRON_DATABASE
from deployer.cli import main
from deployer.embedded import EmbeddedCluster


def cron_jobs(cluster):
    with psycopg.connect(cluster.dsn(CRON_DATABASE)) as conn:
        return {name: (schedule, database, command) for name, schedule, database, command in
                conn.execute("SELECT jobname, schedule, database, command FROM cron.job")}


def test_apply_in_the_cron_database_creates_extension_and_jobs(cluster):
    dsn = cluster.dsn(CRON_DATABASE)
    result = CliRunner().invoke(main, ["apply", "--dsn", dsn, "--with-source-schema", "--json"])
    assert result.exit_code == 0, result.output
    jobs = cron_jobs(cluster)
    assert jobs["zorina_full"][:2] == ("30 3 * * *", CRON_DATABASE)
    assert "refresh_customer_analytics('full')" in jobs["zorina_full"][2]
    assert jobs["zorina_incremental"][:2] == ("*/5 * * * *", CRON_DATABASE)
    # a DBA changes the schedule; re-applying keeps it
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT cron.alter_job((SELECT jobid FROM cron.job WHERE jobname = 'zorina_full'), schedule => '30 2 * * *')")
    again = CliRunner().invoke(main, ["apply", "--dsn", dsn, "--json"])
    assert json.loads(again.stdout)["changed"] is False
    assert cron_jobs(cluster)["zorina_full"][0] == "30 2 * * *"


def test_apply_in_another_database_schedules_there(cluster, new_database):
    dsn = new_database(template=True)
    dbname = dsn.rsplit("/", 1)[1]
    result = CliRunner().invoke(main, ["apply", "--dsn", dsn, "--json"])
    assert result.exit_code == 0, result.output
    step = [s for s in json.loads(result.stdout)["steps"] if s["step"] == "pg_cron"][0]
    assert sorted(step["changed"]) == sorted(f"zorina_{job}@{dbname}" for job in ("incremental", "recent", "full", "cleanup"))
    assert cron_jobs(cluster)[f"zorina_full@{dbname}"][1] == dbname


def test_apply_without_pg_cron_preloaded_skips_scheduling_clearly(server_tmp):
    tmp_path = server_tmp
    plain = EmbeddedCluster(tmp_path / "plain", dbname="plain",
                            extra_settings={"shared_preload_libraries": "''", "fsync": "off"})
    try:
        dsn = plain.start()
        result = CliRunner().invoke(main, ["apply", "--dsn", dsn, "--with-source-schema", "--json"])
        assert result.exit_code == 0, result.output
        steps = {s["step"]: s for s in json.loads(result.stdout)["steps"]}
        assert "scheduling skipped" in steps["pg_cron"]["note"]
        assert "shared_preload_libraries = 'pg_cron'" in steps["pg_cron"]["note"]
        assert steps["functions"]["changed"]
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0] == 0
            assert conn.execute("SELECT to_regclass('public.customer_analytics')").fetchone()[0] is not None
    finally:
        plain.destroy()
