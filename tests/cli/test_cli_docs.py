"""docs/cli.md is generated from the Typer app (`make docs`): every command must be in it."""

from __future__ import annotations

from pathlib import Path

import click
import typer

from qunyun.cli.main import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _paths(cmd: click.Command, prefix: str) -> list[str]:
    out = [prefix]
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            out += _paths(sub, f"{prefix} {name}")
    return out


def test_every_command_is_in_the_cli_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [p for p in _paths(typer.main.get_command(app), "qunyun") if f"`{p}`" not in text]
    assert not missing, f"run `make docs` to regenerate docs/cli.md; missing: {missing}"
