"""The engine: plugin registry, pipeline (store → policies → handlers → executor), outbox."""

from qunyun.engine.context import Context
from qunyun.engine.pipeline import Engine, Outcome
from qunyun.engine.plugins import Plugin, Registry, build_registry

__all__ = ["Context", "Engine", "Outcome", "Plugin", "Registry", "build_registry"]
