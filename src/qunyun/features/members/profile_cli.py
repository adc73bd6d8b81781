"""``qunyun profile ...`` — placeholder replaced below."""

from __future__ import annotations

import typer

app = typer.Typer(help="Member profiles (用户画像).", no_args_is_help=True)
