"""The Record page: a voice pack recorded from the phone, line by line (``recording`` does the work).

``GET /record?session=ID&pack=NAME`` shows the next line to record; the page's script records it in the
browser, plays it back, and on "Keep" sends the WAV to ``POST /record/take?session=&pack=&key=`` (with the
CSRF token and Origin every change needs), which answers ``{"ok", "kept", "message", "redo", "anyway"}``.
``POST /record/skip`` (a plain form) skips the line. The page alone may use the microphone (the
Permissions-Policy of every other answer forbids it).
"""

from __future__ import annotations

from urllib.parse import urlencode

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from voiceguide.errors import VoiceguideError
from voiceguide.remote import catalog, recording
from voiceguide.remote.context import page

DEFAULT_PACK = "my-voice"
"""The pack the page records into unless another name is given (as ``voiceguide record``)."""
PERMISSIONS = "camera=(), microphone=(self), geolocation=()"
"""The record page's Permissions-Policy: its own origin may ask for the microphone."""


def _where(request: Request) -> tuple[str, str]:
    q = request.query_params
    return q.get("session", "").strip(), (q.get("pack", "").strip().lower() or DEFAULT_PACK)


async def record_page(request: Request) -> Response:
    session, pack = _where(request)
    sessions = await to_thread.run_sync(catalog.items)
    missing = recording.extra_missing()
    state, error = None, ""
    if session and not missing:
        try:
            state = await to_thread.run_sync(recording.next_line, pack, session)
        except VoiceguideError as exc:
            error = str(exc)
    response = page(request, "record.html", sessions=sessions, session=session, pack=pack, state=state,
                    error=error, missing=missing, max_seconds=int(recording.MAX_SECONDS))
    response.headers["Permissions-Policy"] = PERMISSIONS
    return response


async def _body(request: Request) -> bytes | None:
    """The request body, or None when it is (or announces being) larger than :data:`recording.MAX_BYTES`."""
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > recording.MAX_BYTES):
        return None
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > recording.MAX_BYTES:
            return None
        parts.append(chunk)
    return b"".join(parts)


async def take(request: Request) -> Response:
    session, pack = _where(request)
    key = request.query_params.get("key", "")
    raw = await _body(request)
    if raw is None:
        return JSONResponse({"ok": False, "kept": False, "redo": True, "message":
                             f"That take is longer than {recording.MAX_SECONDS / 60:g} minutes, so it was not "
                             "kept."}, status_code=413)
    anyway = request.query_params.get("anyway") == "1"
    outcome = await to_thread.run_sync(recording.keep, pack, session, key, raw, anyway)
    return JSONResponse({"ok": outcome.kept, "kept": outcome.kept, "redo": outcome.redo, "anyway": outcome.anyway,
                         "message": outcome.message}, status_code=200 if outcome.kept else 422)


async def skip(request: Request) -> Response:
    session, pack = _where(request)
    said = await to_thread.run_sync(recording.skip, pack, session, request.query_params.get("key", ""))
    return RedirectResponse("/record?" + urlencode({"session": session, "pack": pack, "said": said}),
                            status_code=303)


def routes() -> list[BaseRoute]:
    """This module's routes."""
    return [
        Route("/record", record_page, methods=["GET"]),
        Route("/record/take", take, methods=["POST"]),
        Route("/record/skip", skip, methods=["POST"]),
    ]
