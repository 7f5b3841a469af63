"""The README documents every command, option and setting, and every command's help has an example.

As sqlite-utils does: a command or option added without a word in the README fails here, and so
does a setting the README names that no longer exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from adscreen.cli import app
from adscreen.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def commands() -> list[tuple[str, object]]:
    """Every leaf command as it is typed (``score-file``, ``models promote``)."""
    found = []

    def walk(command, path: list[str]) -> None:
        if hasattr(command, "commands"):  # a group (typer may bundle its own click)
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found.append((" ".join(path), command))

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = commands()


def test_the_command_list_is_read():
    """The walk itself: the contract's commands are among those found."""
    names = {name for name, _ in COMMANDS}
    assert {"score", "score-file", "train", "evaluate", "models list", "models promote", "serve"} <= names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_is_in_the_readme_with_an_example_in_its_help(name: str, command):
    assert f"adscreen {name}" in README, f"README does not mention 'adscreen {name}'"
    assert "Example:" in (command.help or ""), f"'adscreen {name} --help' has no example"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_option_is_in_the_readme(name: str, command):
    options = [
        option
        for parameter in command.params
        if getattr(parameter, "param_type_name", "") == "option"
        for option in parameter.opts
        if option.startswith("--") and option != "--help"
    ]
    missing = [option for option in options if option not in README]
    assert not missing, f"'adscreen {name}' options missing from the README: {missing}"


def test_every_setting_is_in_the_readme_and_every_documented_one_exists():
    settings = {f"ADSCREEN_{name.upper()}" for name in Settings.model_fields}
    assert not sorted(name for name in settings if name not in README), "settings missing from the README"
    # ADSCREEN_DEBUG is read by the CLI's error handler, not a setting of the app.
    documented = set(re.findall(r"ADSCREEN_[A-Z_]+[A-Z]", README)) - {"ADSCREEN_DEBUG"}
    assert documented <= settings, f"README names settings that do not exist: {sorted(documented - settings)}"
