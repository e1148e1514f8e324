"""One declaration of the data commands: the fast parser and the typer commands agree.

Also: ``--help`` of every command shows flags as flags and values by a short metavar.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from typer.core import TyperArgument, TyperOption

from loom.cli import data_run, spec
from loom.cli.main import command, run


def _click(name: str) -> Any:
    return command().commands[name]


@pytest.mark.parametrize("name", spec.COMMANDS)
def test_typer_command_has_exactly_the_spec_options(name: str) -> None:
    declared, cmd = spec.COMMANDS[name], _click(name)
    options = {p.name: p for p in cmd.params if isinstance(p, TyperOption)}
    assert set(options) == {o.keyword for o in declared.options}
    for o in declared.options:
        p = options[o.keyword]
        assert (tuple(p.opts), p.is_flag, p.metavar) == (
            o.flags,
            not o.takes_value,
            o.metavar or "",
        )
    arguments = [p for p in cmd.params if isinstance(p, TyperArgument)]
    if declared.paths is None:
        assert arguments == []
    else:
        [paths] = arguments
        assert (paths.name, paths.nargs, paths.required) == ("paths", -1, declared.paths_required)
    assert cmd.help == declared.help


def _samples() -> list[list[str]]:
    """Every option of every command once (after a path where paths are allowed), and mixes."""
    out: list[list[str]] = []
    values = {int: "3", float: "1.5", str: "origin"}
    for cmd in spec.COMMANDS.values():
        paths = ["data"] if cmd.paths is not None else []
        for o in cmd.options:
            for flag in o.flags:
                value = [values[o.type]] if o.takes_value else []
                out.append([cmd.name, *paths, flag, *value])
    mixes = [
        ["status"],
        ["status", "--json", "a", "-j", "2", "b c", "-q"],
        ["add", "x", "y"],
        ["checkout", "-f", "--jobs", "8", "data/sub/file.csv"],
        ["push", "--all-commits", "--all-tags", "--all-branches", "-r", "s3"],
        ["pull", "-f", "--json", "-r", "near", "d"],
        ["gc", "-w", "--dry-run", "--grace", "60", "--json"],
        ["fsck", "-j", "4", "-q", "--json"],
        ["init", "--no-scm", "--force"],
        ["init"],
    ]
    return out + mixes


@pytest.mark.parametrize("argv", _samples(), ids=" ".join)
def test_fast_parser_and_typer_make_the_same_call(argv: list[str], monkeypatch) -> None:
    fast = spec.parse(argv)
    assert fast is not None, "the fast path should answer this itself"
    calls: list[tuple[str, dict]] = []
    name = argv[0]
    monkeypatch.setattr(data_run, name, lambda **kw: calls.append((name, kw)))
    assert run(argv) == 0
    assert calls == [fast]


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--help"],
        ["status", "-h"],
        ["status", "--jobs=4"],
        ["status", "-qj2"],
        ["status", "--jobs", "x"],
        ["status", "--jobs", "²"],
        ["status", "--jobs"],
        ["push", "-r", "--json"],
        ["gc", "--grace", "soon"],
        ["add"],
        ["status", "--", "-odd-name"],
        ["init", "somewhere"],
        ["frobnicate"],
        [],
    ],
    ids=" ".join,
)
def test_fast_parser_leaves_the_unusual_to_typer(argv: list[str]) -> None:
    assert spec.parse(argv) is None


def _every_command(cmd: Any, path: list[str]) -> list[list[str]]:
    out = [path]
    for name, sub in getattr(cmd, "commands", {}).items():
        out += _every_command(sub, [*path, name])
    return out


@pytest.mark.parametrize("path", _every_command(command(), []), ids=lambda p: " ".join(p) or "loom")
def test_help_shows_flags_as_flags(path: list[str], capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per option: nothing wraps
    assert run([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage" in out
    assert not re.findall(r"<\w+[\[>]", out), out  # no <bool>, <int>, <list[Path]>
    assert re.search(r"--help\s+-h\s+Show this message", out), out
    if path == ["push"]:
        assert re.search(r"--jobs\s+-j\s+N\s+Parallel", out), out
        assert re.search(r"--json\s+Print JSON", out), out
        assert "[PATHS]..." in out


@pytest.mark.parametrize(
    "argv",
    [["status", "--jobs", "x"], ["status", "--jobs", "²"], ["gc", "--grace", "soon"], ["add"]],
    ids=" ".join,
)
def test_what_the_fast_parser_leaves_is_a_usage_error_in_typer(argv: list[str], capsys) -> None:
    assert spec.parse(argv) is None
    assert run(argv) == 2
    assert "Traceback" not in capsys.readouterr().err
