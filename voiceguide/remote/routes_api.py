"""The JSON API under the page (documented in docs/remote.md), for scripts and home automation.

It takes the same cookie, CSRF token and Origin as the page; everything it does goes through the
control socket or the journal module, like the page.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from voiceguide.remote import catalog, chart
from voiceguide.remote.context import Context

MAX_BODY = 16 * 1024


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return {}
    try:
        value = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


async def status(request: Request) -> Response:
    """GET /api/status: the daemon's ``ctl status``, with the playing session's ``title``."""
    return JSONResponse(await to_thread.run_sync(catalog.titled, await _ctx(request).link.status()))


async def sessions(request: Request) -> Response:
    """GET /api/sessions: every session the daemon can start."""
    return JSONResponse([asdict(i) for i in await to_thread.run_sync(catalog.items)])


async def start(request: Request) -> Response:
    """POST /api/start {"session": ID, "minutes": N?}."""
    body = await _body(request)
    minutes = body.get("minutes")
    if not isinstance(minutes, int | float) or isinstance(minutes, bool):
        minutes = None
    reply = await _ctx(request).link.start(str(body.get("session", "")), minutes)
    return JSONResponse(reply, status_code=200 if reply.get("ok") else 409)


async def control(request: Request) -> Response:
    """POST /api/control {"action": "pause"|"resume"|"skip"|"slower"|"stop"}."""
    body = await _body(request)
    reply = await _ctx(request).link.control(str(body.get("action", "")))
    return JSONResponse(reply, status_code=200 if reply.get("ok") else 409)


async def volume(request: Request) -> Response:
    """POST /api/volume {"level": 0.0-1.0}: the daemon's master volume."""
    level = (await _body(request)).get("level")
    if isinstance(level, bool) or not isinstance(level, int | float):
        return JSONResponse({"ok": False, "error": "level must be a number from 0 to 1"}, status_code=400)
    reply = await _ctx(request).link.volume(float(level))
    return JSONResponse(reply, status_code=200 if reply.get("ok") else 409)


async def mood(request: Request) -> Response:
    """GET /api/mood?by=day|week|month: average rating per period."""
    ctx = _ctx(request)
    if not ctx.remote.journal:
        return JSONResponse({"ok": False, "error": "the journal is off for the remote"}, status_code=404)
    period = request.query_params.get("by", "week")
    if period not in chart.PERIODS:
        period = "week"
    built = chart.build(await to_thread.run_sync(ctx.journal().all), period)  # type: ignore[arg-type]
    return JSONResponse({"ok": True, "by": period,
                         "points": [{"period": p.label, "mean": p.mean, "count": p.count} for p in built.points]})


def routes() -> list[BaseRoute]:
    """This module's routes."""
    return [
        Route("/api/status", status, methods=["GET"]),
        Route("/api/sessions", sessions, methods=["GET"]),
        Route("/api/start", start, methods=["POST"]),
        Route("/api/control", control, methods=["POST"]),
        Route("/api/volume", volume, methods=["POST"]),
        Route("/api/mood", mood, methods=["GET"]),
    ]
