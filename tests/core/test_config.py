"""qunyun.toml + environment: precedence and error messages that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from qunyun.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "qunyun.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s.database.url == "sqlite:///qunyun.db" and s.engine.dry_run is False
    assert s.web.secret_key and (tmp_path / ".qunyun-secret").exists()
    assert load_settings(environ={}).web.secret_key == s.web.secret_key  # stable across restarts


def test_file_env_and_flag_precedence(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///file.db"\n[web]\nport = 9000\n[engine]\ndry_run = true\n')
    s = load_settings(path, environ={})
    assert s.database.url == "sqlite:///file.db" and s.web.port == 9000 and s.engine.dry_run
    s = load_settings(path, environ={"QUNYUN_DATABASE_URL": "sqlite:///env.db", "QUNYUN_WEB__PORT": "9100"})
    assert s.database.url == "sqlite:///env.db" and s.web.port == 9100
    s = load_settings(path, db_url="sqlite:///flag.db", environ={"QUNYUN_DATABASE_URL": "sqlite:///env.db"})
    assert s.database.url == "sqlite:///flag.db"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[web]\nport = 70000\n", "web.port"),
        ("[engine]\nmax_attempts = 0\n", "engine.max_attempts"),
        ("[web]\ndefault_lang = \"fr\"\n", "web.default_lang"),
        ("[databse]\nurl = \"x\"\n", "databse"),
        ("[rate_limits.qq.group]\nrate = -1\n", "rate_limits.qq.group.rate"),
        ("[web\nport = 1\n", "not valid TOML"),
    ],
)
def test_wrong_values_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), environ={})
    assert fragment in str(err.value) and "qunyun.toml" in str(err.value)


def test_feature_sections_are_validated_by_the_feature(tmp_path: Path) -> None:
    class Greeter(BaseModel):
        text: str = "hi"
        delay: int = 0

    s = load_settings(write(tmp_path, "[features.greeter]\ndelay = \"soon\"\n"), environ={})
    with pytest.raises(ConfigError) as err:
        s.feature("greeter", Greeter)
    assert "features.greeter.delay" in str(err.value)
    assert load_settings(write(tmp_path, "[features.greeter]\ndelay = 3\n"), environ={}).feature(
        "greeter", Greeter
    ).delay == 3


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_dashboard_timezone_is_checked(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, '[web]\ntimezone = "UTC"\n'), environ={}).web.timezone == "UTC"
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, '[web]\ntimezone = "Mars/Olympus"\n'), environ={})
    assert "web.timezone" in str(err.value) and "IANA" in str(err.value)
