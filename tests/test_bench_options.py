"""The benchmark's own options (the benchmark itself runs on demand, never in CI: these check
only that a bad option is refused with a message naming it, before anything is created)."""

import argparse

import pytest

from bench.__main__ import GROUPS, _groups, main


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
                                         (["--scale", "XL"], "XL")])
def test_bad_options_exit_with_a_one_line_message_before_any_work(argv, named, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert named in error and "Traceback" not in error
