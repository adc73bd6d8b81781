"""The plugin contract. Built-in features register through it exactly as third-party ones do.

A plugin is anything with a ``name`` and a ``setup(registry)`` method, published under the entry
point group ``qunyun.plugins``. In ``setup`` it adds what it brings:

- **policies** (run first, by priority; may stop propagation — spam filters live here),
- **handlers** (features; return :class:`~qunyun.actions.Action` lists; grouped by priority),
- **projections** (called with every batch of newly stored events, live or imported, inside the
  storing transaction — rollups and counters live here; they never return actions),
- **CLI** sub-apps (Typer), **web** routers (dashboard pages) and **API** routers (``/api/v1``),
  **navigation** entries, **scheduled jobs** and **adapters**.

Modelled on Datasette (built-ins are plugins), aiogram (routers + filters) and
python-telegram-bot (handler groups with priorities, explicit context).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sqlalchemy import Connection

from qunyun.events import Event, EventType

if TYPE_CHECKING:
    from qunyun.actions import Action
    from qunyun.engine.context import Context

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "qunyun.plugins"

#: a policy or handler: takes the context, returns actions (or None); may be async
Handler = Callable[["Context"], "Sequence[Action] | None | Awaitable[Sequence[Action] | None]"]
#: a projection: (connection, newly inserted events) inside the storing transaction
Projection = Callable[[Connection, Sequence[Event]], None]
Filter = Callable[[Event], bool]


@runtime_checkable
class Plugin(Protocol):
    name: str

    def setup(self, registry: Registry) -> None: ...


@dataclass(slots=True)
class Registered:
    """A policy or handler with its ordering and filters."""

    name: str
    fn: Handler
    priority: int
    types: frozenset[EventType] | None
    filters: tuple[Filter, ...]
    plugin: str

    def matches(self, event: Event) -> bool:
        if self.types is not None and event.type not in self.types:
            return False
        return all(f(event) for f in self.filters)


@dataclass(slots=True)
class NavItem:
    label_key: str
    path: str
    order: int = 100
    min_role: str = "viewer"


@dataclass(slots=True)
class ScheduledJob:
    name: str
    fn: Callable[..., Any]
    cron: str | None = None
    interval_seconds: float | None = None
    #: also run once right after start (a cache the message path reads must not wait an interval)
    at_start: bool = False


@dataclass
class Registry:
    """Everything the loaded plugins contributed. One per engine/app."""

    policies: list[Registered] = field(default_factory=list)
    handlers: list[Registered] = field(default_factory=list)
    projections: list[tuple[str, Projection]] = field(default_factory=list)
    cli_apps: list[tuple[str, Any, str]] = field(default_factory=list)
    cli_commands: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    web_routers: list[Any] = field(default_factory=list)
    api_routers: list[Any] = field(default_factory=list)
    nav: list[NavItem] = field(default_factory=list)
    jobs: list[ScheduledJob] = field(default_factory=list)
    adapters: dict[str, Callable[..., Any]] = field(default_factory=dict)
    importers: list[Any] = field(default_factory=list)
    template_dirs: list[Any] = field(default_factory=list)
    member_enrichers: list[Callable[..., Any]] = field(default_factory=list)
    batch_hooks: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    #: the app's Settings, set by open_app/BotTester after loading: for enrichers, projections and jobs
    #: that need their feature section (``registry.settings.feature(...)``); None before that
    settings: Any = None
    _current: str = "?"

    # -- event path --------------------------------------------------------------------------
    def add_policy(
        self,
        fn: Handler,
        *,
        priority: int = 100,
        name: str | None = None,
        types: Iterable[EventType] | None = None,
        filters: Sequence[Filter] = (),
    ) -> None:
        """A policy runs before handlers, lowest ``priority`` first; ``ctx.stop()`` ends the chain."""
        self.policies.append(self._reg(fn, priority, name, types, filters))
        self.policies.sort(key=lambda r: r.priority)

    def add_handler(
        self,
        fn: Handler,
        *,
        priority: int = 100,
        name: str | None = None,
        types: Iterable[EventType] | None = None,
        filters: Sequence[Filter] = (),
    ) -> None:
        """A handler returns actions; handlers run by ``priority`` until one calls ``ctx.stop()``."""
        self.handlers.append(self._reg(fn, priority, name, types, filters))
        self.handlers.sort(key=lambda r: r.priority)

    def add_projection(self, fn: Projection, *, name: str | None = None) -> None:
        """Called with each batch of newly stored events (live and imported), in the same transaction."""
        self.projections.append((name or f"{self._current}.{fn.__name__}", fn))

    def add_batch_hook(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        """``fn(events, batch_state)`` (sync or async) runs once per batch of new live events, before
        the per-event policies; whatever it leaves in ``batch_state`` every policy and handler of
        that batch sees as ``ctx.batch``. This is where vectorized work belongs (one classifier
        call for 500 messages instead of 500 calls).
        """
        self.batch_hooks.append((name or f"{self._current}.{getattr(fn, '__name__', 'hook')}", fn))

    # -- faces -------------------------------------------------------------------------------
    def add_cli(self, app: Any, name: str, help: str = "") -> None:
        """Mount a Typer sub-app as ``qunyun NAME ...``."""
        self.cli_apps.append((name, app, help))

    def add_cli_command(self, name: str, fn: Callable[..., Any]) -> None:
        """Add a top-level ``qunyun NAME`` command (a plain Typer command function)."""
        self.cli_commands.append((name, fn))

    def add_web_router(self, router: Any) -> None:
        """A FastAPI router of dashboard pages (HTML); login is enforced by the app.

        ``router`` may also be a zero-argument callable returning the router: it is called only
        when the web app is built, so CLI commands never import FastAPI or the page modules.
        """
        self.web_routers.append(router)

    def add_api_router(self, router: Any) -> None:
        """A FastAPI router mounted under ``/api/v1``; token or session auth is enforced by the app.

        Like :meth:`add_web_router`, a zero-argument callable returning the router is accepted.
        """
        self.api_routers.append(router)

    def add_nav(self, label_key: str, path: str, *, order: int = 100, min_role: str = "viewer") -> None:
        self.nav.append(NavItem(label_key, path, order, min_role))
        self.nav.sort(key=lambda n: n.order)

    def add_member_enricher(self, fn: Callable[..., Any]) -> None:
        """``fn(conn, group_ref, rows) -> rows``: add columns (score, role, reason ...) to member listings.

        Used by ``qunyun members``, ``GET /api/v1/groups/{g}/members`` and the members page.
        """
        self.member_enrichers.append(fn)

    def add_template_dir(self, path: Any) -> None:
        """A directory of Jinja2 templates for this plugin's pages (they may extend ``base.html``)."""
        self.template_dirs.append(path)

    def add_job(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        cron: str | None = None,
        interval_seconds: float | None = None,
        at_start: bool = False,
    ) -> None:
        """A periodic job run by ``qunyun run``/``serve`` (APScheduler); ``fn(app_context)``;
        ``at_start``: also once as soon as the scheduler starts."""
        self.jobs.append(ScheduledJob(name, fn, cron, interval_seconds, at_start))

    def add_adapter(self, platform: str, factory: Callable[..., Any]) -> None:
        self.adapters[platform] = factory

    def add_importer(self, importer: Any) -> None:
        self.importers.append(importer)

    # -- internals ---------------------------------------------------------------------------
    def _reg(
        self,
        fn: Handler,
        priority: int,
        name: str | None,
        types: Iterable[EventType] | None,
        filters: Sequence[Filter],
    ) -> Registered:
        return Registered(
            name=name or f"{self._current}.{getattr(fn, '__name__', 'handler')}",
            fn=fn,
            priority=priority,
            types=frozenset(types) if types is not None else None,
            filters=tuple(filters),
            plugin=self._current,
        )

    def install(self, plugin: Plugin) -> None:
        self._current = plugin.name
        try:
            plugin.setup(self)
        finally:
            self._current = "?"
        self.plugins.append(plugin.name)


def _instantiate(obj: Any) -> Plugin:
    plugin = obj() if isinstance(obj, type) else obj
    if not hasattr(plugin, "setup") or not hasattr(plugin, "name"):
        raise TypeError(f"{obj!r} is not a qunyun plugin (needs name and setup(registry))")
    return plugin  # type: ignore[no-any-return]


def discover(disabled: Iterable[str] = ()) -> list[Plugin]:
    """Plugins published under the ``qunyun.plugins`` entry point group, in name order."""
    skip = set(disabled)
    found = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in skip:
            continue
        try:
            found.append(_instantiate(ep.load()))
        except Exception:  # a broken third-party plugin must not take the platform down
            log.exception("plugin %s failed to load", ep.name)
    return found


def build_registry(plugins: Iterable[Plugin] | None = None, disabled: Iterable[str] = ()) -> Registry:
    registry = Registry()
    for plugin in discover(disabled) if plugins is None else plugins:
        registry.install(plugin)
    return registry


def lazy_router(module: str, attr: str = "router") -> Callable[[], Any]:
    """A router factory for :meth:`Registry.add_web_router` / ``add_api_router``: imports
    ``module`` and returns its ``attr`` when the web app is built (``lazy_router("x.web")``)."""

    def load() -> Any:
        import importlib

        return getattr(importlib.import_module(module), attr)

    load.__qualname__ = f"lazy_router({module}:{attr})"
    return load


def resolve_router(router: Any) -> Any:
    """A registered router, or what its factory returns (routers have ``routes``, factories not)."""
    return router if hasattr(router, "routes") else router()
