"""The embedded cluster: starts, serves, stops, restarts on its existing data; the CLI manages it."""

import psycopg
from click.testing import CliRunner

from deployer.cli import main
from deployer.embedded import EmbeddedCluster


def test_start_serve_stop_restart_keeps_data(server_tmp, monkeypatch):
    tmp_path = server_tmp
    monkeypatch.setenv("ZORINA_HOME", str(tmp_path / ".zorina"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["embedded", "status"]).exit_code == 1  # not created yet
        started = runner.invoke(main, ["embedded", "start"])
        assert started.exit_code == 0, started.output
        dsn = started.stdout.strip()
        assert dsn.startswith("postgresql://postgres@127.0.0.1:")
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("15")
            assert "pg_cron" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
            conn.execute("CREATE TABLE kept (value text)")
            conn.execute("INSERT INTO kept VALUES ('still here')")
        assert runner.invoke(main, ["embedded", "url"]).stdout.strip() == dsn
        assert runner.invoke(main, ["embedded", "status"]).exit_code == 0
        assert runner.invoke(main, ["embedded", "stop"]).stdout.strip() == "stopped"
        assert runner.invoke(main, ["embedded", "status"]).exit_code == 1
        assert runner.invoke(main, ["embedded", "url"]).exit_code == 1
        # a command with no --dsn starts it again, on the same data
        applied = runner.invoke(main, ["apply", "--with-source-schema", "--json"])
        assert applied.exit_code == 0, applied.output
        dsn = runner.invoke(main, ["embedded", "url"]).stdout.strip()
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT value FROM kept").fetchone()[0] == "still here"
            assert conn.execute("SELECT count(*) FROM cron.job WHERE jobname LIKE 'zorina%'").fetchone()[0] == 4
    finally:
        EmbeddedCluster(tmp_path / ".zorina").destroy()
