"""Configuration: one ``qunyun.toml`` plus environment variables, validated by pydantic.

Precedence (highest first): explicit CLI flags (``--db``), environment variables
(``QUNYUN_DATABASE_URL``, ``QUNYUN_DRY_RUN``, ``QUNYUN_SECRET_KEY`` and the generic
``QUNYUN_<SECTION>__<KEY>``), the TOML file, defaults. A wrong value raises :class:`ConfigError`
whose message names the key and what was expected.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CONFIG_FILE = "qunyun.toml"
DEFAULT_DB_URL = "sqlite:///qunyun.db"


class ConfigError(ValueError):
    """A configuration value is wrong; the message says which key and what was expected."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Section):
    url: str = DEFAULT_DB_URL
    echo: bool = False


class EngineConfig(_Section):
    #: record what would be done, execute nothing (全局演练模式)
    dry_run: bool = False
    #: retries of a failed outbound action before it is marked failed
    max_attempts: int = Field(default=5, ge=1, le=100)
    #: first retry delay in seconds; doubles each attempt (with jitter)
    backoff_seconds: float = Field(default=2.0, gt=0)
    batch_size: int = Field(default=500, ge=1, le=100_000)
    #: consecutive transport failures that pause one bot account (circuit breaker)
    breaker_threshold: int = Field(default=5, ge=1, le=1000)
    #: seconds an account stays paused before one probe is sent
    breaker_cooldown: float = Field(default=300.0, gt=0)


class RateLimit(_Section):
    """Token bucket: ``rate`` actions per ``per`` seconds, bursts up to ``burst``."""

    rate: float = Field(gt=0)
    per: float = Field(default=1.0, gt=0)
    burst: int = Field(default=1, ge=1)


def _default_limits() -> dict[str, dict[str, RateLimit]]:
    """Per-platform / per-account / per-group defaults from the quota table (风控 reports)."""
    from qunyun.engine.ratelimit import default_limits  # late: ratelimit imports this module

    return {
        platform: {scope: RateLimit(**values) for scope, values in scopes.items()}
        for platform, scopes in default_limits().items()
    }


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = ""
    default_lang: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")
    #: time zone the dashboard shows times in (stored times are UTC)
    timezone: str = "Asia/Shanghai"
    session_max_age: int = Field(default=7 * 24 * 3600, ge=60)


    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai or UTC)") from exc
        return value


class PluginsConfig(_Section):
    #: entry-point names of plugins not to load
    disabled: list[str] = Field(default_factory=list)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    #: per platform: {"platform": RateLimit, "group": RateLimit, "account": RateLimit}
    rate_limits: dict[str, dict[str, RateLimit]] = Field(default_factory=_default_limits)
    #: bot accounts per platform (see the adapters' docs for the keys)
    accounts: list[dict[str, Any]] = Field(default_factory=list)
    #: free-form sections owned by features (``[features.moderation]`` ...); each feature
    #: validates its own section with its own model
    features: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: where the file was read from (None: defaults only)
    source: str | None = None

    def feature(self, name: str, model: type[BaseModel]) -> Any:
        """Validate and return the ``[features.<name>]`` section with the feature's model."""
        try:
            return model.model_validate(self.features.get(name, {}))
        except ValidationError as exc:
            raise ConfigError(_format_errors(exc, prefix=f"features.{name}", source=self.source)) from exc

    def limit(self, platform: str, scope: str) -> RateLimit | None:
        table = self.rate_limits.get(platform) or self.rate_limits.get("*") or {}
        return table.get(scope)


def _format_errors(exc: ValidationError, *, prefix: str = "", source: str | None = None) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if prefix:
            loc = f"{prefix}.{loc}" if loc else prefix
        got = err.get("input")
        got_text = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{loc}: {err['msg']}{got_text}")
    where = f"{source}: " if source else ""
    return where + "; ".join(lines)


_ENV_ALIASES = {
    "QUNYUN_DATABASE_URL": ("database", "url"),
    "QUNYUN_DRY_RUN": ("engine", "dry_run"),
    "QUNYUN_SECRET_KEY": ("web", "secret_key"),
}


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if name in _ENV_ALIASES:
            section, key = _ENV_ALIASES[name]
        elif name.startswith("QUNYUN_") and "__" in name:
            section, _, key = name[len("QUNYUN_") :].lower().partition("__")
        else:
            continue
        out.setdefault(section, {})[key] = value
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(
    path: str | Path | None = None,
    *,
    db_url: str | None = None,
    environ: dict[str, str] | None = None,
    ensure_secret: bool = True,
) -> Settings:
    """Read ``qunyun.toml`` (or ``path``), apply env vars and an explicit ``db_url``."""
    environ = dict(os.environ if environ is None else environ)
    explicit = path is not None or "QUNYUN_CONFIG" in environ
    file = Path(path or environ.get("QUNYUN_CONFIG") or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    source = None
    if file.exists():
        try:
            with file.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        source = str(file)
    elif explicit:
        raise ConfigError(f"{file}: config file not found")
    data = _merge(data, _env_overrides(environ))
    if db_url:
        data = _merge(data, {"database": {"url": db_url}})
    if "rate_limits" in data:
        data["rate_limits"] = _merge(
            {k: {s: v.model_dump() for s, v in t.items()} for k, t in _default_limits().items()},
            data["rate_limits"],
        )
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source=source or "config")) from exc
    settings.source = source
    if ensure_secret and not settings.web.secret_key:
        settings.web.secret_key = _persistent_secret(file.parent)
    return settings


def _persistent_secret(directory: Path) -> str:
    """A session-signing key kept next to the config, so logins survive restarts."""
    key_file = directory / ".qunyun-secret"
    try:
        if key_file.exists():
            return key_file.read_text().strip()
        key = secrets.token_urlsafe(32)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
    except OSError:
        return secrets.token_urlsafe(32)


SAMPLE_CONFIG = """\
# qunyun.toml — every key is optional; values shown are the defaults.
[database]
url = "sqlite:///qunyun.db"   # or postgresql+psycopg://user@localhost/qunyun

[engine]
dry_run = false               # record what would be done, execute nothing
max_attempts = 5
backoff_seconds = 2.0

[web]
host = "127.0.0.1"
port = 8000
default_lang = "zh-CN"        # or "en"

[plugins]
disabled = []

# Per-platform token buckets (风控): rate actions per `per` seconds, bursts up to `burst`.
[rate_limits.qq.group]
rate = 1
per = 7
burst = 1
"""
