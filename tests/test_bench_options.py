"""The benchmark's own options (the benchmark itself runs on demand, never in CI: these check
only that a bad option is refused with a message naming it, before anything is created or
dropped)."""

import argparse

import psycopg
import psycopg.sql
import pytest

from bench.__main__ import GROUPS, _groups, main, prepare_database
from conftest import admin


def test_only_accepts_groups_in_the_order_given_without_repeats():
    assert _groups("reads, full,reads") == ("reads", "full")
    assert set(_groups(",".join(GROUPS))) == set(GROUPS)


@pytest.mark.parametrize("value", ["nope", "reads,nope", ",", ""])
def test_only_refuses_an_unknown_group_and_names_the_allowed_ones(value):
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        _groups(value)
    message = str(refused.value)
    assert "floor, peers, full, incremental, writes, reads" in message
    if "nope" in value:
        assert "nope" in message


@pytest.mark.parametrize("argv, named", [(["--only", "nope"], "nope"), (["--repeats", "0"], "0"),
                                         (["--scale", "XL"], "XL"), (["--report-only", "--reuse"], "--reuse")])
def test_bad_options_exit_with_a_one_line_message_before_any_work(argv, named, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert named in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("copy_comment", [None, "not json", '{"organizations": 3}'])
def test_reuse_without_a_usable_seeded_copy_drops_nothing(cluster, copy_comment):
    """--reuse with no copy, or one that does not say how it was seeded: a one-line exit that
    names the copy, and the database of an earlier run is still there."""
    with admin(cluster) as conn:
        for name in ("zorina_bench_s", "zorina_bench_s_seeded"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute('CREATE DATABASE "zorina_bench_s"')
        if copy_comment is not None:
            conn.execute('CREATE DATABASE "zorina_bench_s_seeded"')
            conn.execute(psycopg.sql.SQL("COMMENT ON DATABASE zorina_bench_s_seeded IS {}").format(
                psycopg.sql.Literal(copy_comment)))
    try:
        with pytest.raises(SystemExit) as exited:
            prepare_database(cluster, "S", keep=False, reuse=True)
        message = str(exited.value.code)
        assert "zorina_bench_s_seeded" in message and "--keep" in message and "\n" not in message
        with admin(cluster) as conn:
            assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'zorina_bench_s'").fetchone()[0] == 1
    finally:
        with admin(cluster) as conn:
            for name in ("zorina_bench_s", "zorina_bench_s_seeded"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
