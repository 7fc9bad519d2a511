"""The remote's Starlette application: the routes, the static files and the guard around them, over a
:class:`~voiceguide.remote.context.Context` (the routes import the context; this module imports both, so neither
imports the other back)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from voiceguide.remote import routes_api, routes_journal, routes_main, routes_pair, routes_record
from voiceguide.remote.context import HERE, Context, templates
from voiceguide.remote.guard import Guard

BLOCKING_THREADS = 4
"""Worker threads for blocking work (ctl requests, the journal, parsing): anyio's default of 40 let the
daemon's memory grow by tens of MB under load (each thread gets its own malloc arena)."""


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = BLOCKING_THREADS
    try:
        yield
    finally:
        app.state.ctx.close()


def create_app(ctx: Context) -> Starlette:
    """The whole application."""
    routes: list[BaseRoute] = [*routes_pair.routes(), *routes_main.routes(), *routes_record.routes(),
                               *routes_api.routes()]
    if ctx.remote.journal:
        routes += routes_journal.routes()
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    app = Starlette(routes=routes, middleware=[Middleware(Guard, devices=ctx.devices, names=ctx.names)],
                    lifespan=_lifespan)
    app.state.ctx = ctx
    app.state.templates = templates()
    return app
