"""Pages: the journal by day, search, one entry (with its recording), delete, export, and the mood chart.

Only mounted when ``[remote] journal`` is on. The recording route serves only a regular file inside the
journal's own audio folder; export routes build their text from the database and serve no file at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import islice

from anyio import to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from voiceguide.journal import export
from voiceguide.journal.db import Journal
from voiceguide.journal.entry import Entry
from voiceguide.remote import chart
from voiceguide.remote.context import Context, page

FORMATS = {"md": ("text/markdown; charset=utf-8", export.to_markdown),
           "csv": ("text/csv; charset=utf-8", export.to_csv),
           "json": ("application/json", export.to_json)}
PAGE_DAYS = 31
"""Days of entries shown on one journal page (search shows every match)."""


def _journal(request: Request) -> Journal:
    ctx: Context = request.app.state.ctx
    return ctx.journal()


def day_of(entry: Entry) -> str:
    """The entry's local date (``2026-12-01``), or ``undated`` for a hand-edited time."""
    try:
        return dt.datetime.fromisoformat(entry.time).date().isoformat()
    except (TypeError, ValueError):
        return "undated"


def by_day(entries: list[Entry]) -> list[tuple[str, list[Entry]]]:
    """Entries grouped by day, newest day and newest entry first."""
    days: dict[str, list[Entry]] = defaultdict(list)
    for entry in reversed(entries):
        days[day_of(entry)].append(entry)
    return sorted(days.items(), key=lambda d: d[0], reverse=True)


async def journal(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()[:200]
    j = _journal(request)
    entries = await to_thread.run_sync(j.search if query else j.all, *((query,) if query else ()))
    days = by_day(entries)
    return page(request, "journal.html", days=days if query else list(islice(days, PAGE_DAYS)), query=query,
                count=len(entries))


def _entry(request: Request) -> Entry:
    entry = _journal(request).get(request.path_params["entry"])
    if entry is None:
        raise HTTPException(404, "no such entry")
    return entry


async def entry_page(request: Request) -> Response:
    entry = _entry(request)
    has_audio = _audio_path(request, entry) is not None
    return page(request, "entry.html", entry=entry, has_audio=has_audio, day=day_of(entry))


def _audio_path(request: Request, entry: Entry) -> str | None:
    j = _journal(request)
    path = j.audio_file(entry)
    if path is None:
        return None
    try:
        folder, real = j.audio_dir.resolve(strict=True), path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(folder) or not real.is_file():
        return None
    return str(real)


async def audio(request: Request) -> Response:
    path = _audio_path(request, _entry(request))
    if path is None:
        raise HTTPException(404, "no recording")
    return FileResponse(path, media_type="audio/flac")


async def delete_page(request: Request) -> Response:
    return page(request, "delete.html", entry=_entry(request))


async def delete(request: Request) -> Response:
    entry = _entry(request)
    await to_thread.run_sync(_journal(request).delete, entry.id)
    return RedirectResponse("/journal?said=" + "Deleted.", status_code=303)


async def export_as(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in FORMATS:
        raise HTTPException(404, "no such format")
    media, write = FORMATS[fmt]
    text = write(await to_thread.run_sync(_journal(request).all))
    name = f"voiceguide-journal-{dt.date.today().isoformat()}.{fmt}"
    return Response(text, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def mood(request: Request) -> Response:
    period = request.query_params.get("by", "week")
    if period not in chart.PERIODS:
        period = "week"
    entries = await to_thread.run_sync(_journal(request).all)
    return page(request, "mood.html", chart=chart.build(entries, period), periods=chart.PERIODS,  # type: ignore[arg-type]
                width=chart.WIDTH, height=chart.HEIGHT, left=chart.LEFT, right=chart.WIDTH - chart.RIGHT)


def routes() -> list[BaseRoute]:
    """This module's routes."""
    return [
        Route("/journal", journal, methods=["GET"]),
        Route("/journal/export/{fmt:str}", export_as, methods=["GET"]),
        Route("/journal/{entry:int}", entry_page, methods=["GET"]),
        Route("/journal/{entry:int}/audio", audio, methods=["GET"]),
        Route("/journal/{entry:int}/delete", delete_page, methods=["GET"]),
        Route("/journal/{entry:int}/delete", delete, methods=["POST"]),
        Route("/mood", mood, methods=["GET"]),
    ]
