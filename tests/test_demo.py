"""The main job end to end: `zorina-db demo` on an embedded cluster of its own."""

from click.testing import CliRunner

from deployer.cli import main
from deployer.embedded import EmbeddedCluster


def test_demo_runs_end_to_end_and_prints_the_kpi_summary(server_tmp, monkeypatch):
    tmp_path = server_tmp
    monkeypatch.setenv("ZORINA_HOME", str(tmp_path / ".zorina"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    try:
        result = CliRunner().invoke(main, ["demo", "--customers", "600", "--orgs", "2"])
        assert result.exit_code == 0, result.output
        out = result.stdout
        for heading in ("Customers per segment", "New customers in the last 30 days per location",
                        "Top 5 customers by revenue", "Last refresh"):
            assert heading in out
        assert "customers recomputed 600, inserted 600" in out
        assert "completed" in out
    finally:
        EmbeddedCluster(tmp_path / ".zorina").destroy()
