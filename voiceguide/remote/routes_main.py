"""Pages: Now (what plays, start, controls), Schedule and quiet hours, My sessions, Health."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from voiceguide.bounds import MINUTES
from voiceguide.errors import ConfigError, Problem, VoiceguideError
from voiceguide.remote import catalog, config_edit
from voiceguide.remote.context import Context, page

TIME = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")
DAYS = ("daily", "weekdays", "weekends")
MAX_FORM = 512 * 1024
"""Largest form body accepted."""


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _back(path: str, said: str = "") -> RedirectResponse:
    return RedirectResponse(f"{path}?said={quote(said)}" if said else path, status_code=303)


async def _form(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM:
        return {}
    form = await request.form(max_files=1, max_fields=20)
    return dict(form)


# --- now -------------------------------------------------------------------------------------------------
async def now(request: Request) -> Response:
    status = await to_thread.run_sync(catalog.titled, await _ctx(request).link.status())
    sessions = await to_thread.run_sync(catalog.items)
    return page(request, "now.html", status=status, sessions=sessions)


async def start(request: Request) -> Response:
    form = await _form(request)
    session = str(form.get("session", ""))
    minutes = _number(form.get("minutes"))
    reply = await _ctx(request).link.start(session, minutes)
    return _back("/", f"Playing {reply.get('session')}." if reply.get("ok") else str(reply.get("error")))


async def control(request: Request) -> Response:
    action = request.path_params["action"]
    reply = await _ctx(request).link.control(action)
    return _back("/", "" if reply.get("ok") else str(reply.get("error")))


async def volume(request: Request) -> Response:
    form = await _form(request)
    try:
        level = float(str(form.get("level", "")))
    except ValueError:
        return _back("/", "The volume must be a number from 0 to 1.")
    reply = await _ctx(request).link.volume(level)
    return _back("/", "" if reply.get("ok") else str(reply.get("error")))


def _number(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if number in MINUTES else None


# --- schedule --------------------------------------------------------------------------------------------
async def schedule(request: Request) -> Response:
    return await _schedule_page(request, ())


async def _schedule_page(request: Request, problems: tuple[Problem, ...], status: int = 200) -> Response:
    ctx = _ctx(request)
    try:
        doc = config_edit.read(ctx.config_path)
        entries, quiet = config_edit.schedule_of(doc), doc.get("quiet_hours")
    except ConfigError as exc:
        entries, quiet, problems = [], None, exc.problems
    sessions = await to_thread.run_sync(catalog.items)
    quiet_plain = {k: str(v) for k, v in quiet.items()} if isinstance(quiet, dict) else None
    return page(request, "schedule.html", status, entries=entries, quiet=quiet_plain, problems=problems,
                sessions=sessions, day_words=DAYS)


def _entry_form(form: dict[str, Any]) -> config_edit.EntryForm | Problem:
    at, days = str(form.get("at", "")).strip(), str(form.get("days", "daily")).strip() or "daily"
    if not TIME.fullmatch(at):
        return Problem("config.toml", "schedule", "the time must be like 22:30")
    minutes_text = str(form.get("minutes", "")).strip()
    minutes = _number(minutes_text) if minutes_text else None
    if minutes_text and minutes is None:
        return Problem("config.toml", "schedule", f"minutes must be a number {MINUTES}")
    return config_edit.EntryForm(str(form.get("session", "")), at, days, minutes, form.get("ramp") == "on")


async def _change(request: Request, edit: Any) -> Response:
    ctx = _ctx(request)
    try:
        doc = config_edit.read(ctx.config_path)
        edit(doc)
        config_edit.save(ctx.config_path, doc)
    except ConfigError as exc:
        return await _schedule_page(request, exc.problems, 400)
    reply = await ctx.link.reload()
    said = "Saved. The daemon uses it now." if reply.get("ok") else \
        f"Saved to the file, but the daemon did not take it up: {reply.get('error')}"
    return _back("/schedule", said)


async def schedule_add(request: Request) -> Response:
    form = _entry_form(await _form(request))
    if isinstance(form, Problem):
        return await _schedule_page(request, (form,), 400)
    return await _change(request, lambda doc: config_edit.set_entry(doc, None, form))


async def schedule_set(request: Request) -> Response:
    number = request.path_params["number"]
    form = _entry_form(await _form(request))
    if isinstance(form, Problem):
        return await _schedule_page(request, (form,), 400)
    return await _change(request, lambda doc: config_edit.set_entry(doc, number, form))


async def schedule_remove(request: Request) -> Response:
    number = request.path_params["number"]
    return await _change(request, lambda doc: config_edit.remove_entry(doc, number))


async def quiet_set(request: Request) -> Response:
    form = await _form(request)
    start, end = str(form.get("start", "")).strip(), str(form.get("end", "")).strip()
    if form.get("off") == "1":
        return await _change(request, lambda doc: config_edit.set_quiet(doc, None, None))
    if not (TIME.fullmatch(start) and TIME.fullmatch(end)):
        return await _schedule_page(request, (Problem("config.toml", "quiet hours", "times must be like 23:00"),),
                                    400)
    return await _change(request, lambda doc: config_edit.set_quiet(doc, start, end))


# --- my sessions -----------------------------------------------------------------------------------------
async def sessions(request: Request) -> Response:
    mine = [i for i in await to_thread.run_sync(catalog.items) if i.mine]
    return page(request, "sessions.html", mine=mine, problems=(), text="", name="")


async def upload(request: Request) -> Response:
    form = await _form(request)
    upload_file = form.get("file")
    raw = b""
    name = str(form.get("name", "")).strip().lower()
    if isinstance(upload_file, UploadFile) and upload_file.filename:
        raw = await upload_file.read(catalog.MAX_SCRIPT + 1)
        name = name or upload_file.filename.rsplit("/", 1)[-1].removesuffix(".toml").lower()
    if not raw:
        raw = str(form.get("text", "")).replace("\r\n", "\n").encode("utf-8")
    checked = await to_thread.run_sync(catalog.check_and_save, raw, name, _ctx(request).scripts_dir)
    if checked.saved is not None:
        return _back("/sessions", f"Saved '{name}'. It is in the list on Now.")
    mine = [i for i in await to_thread.run_sync(catalog.items) if i.mine]
    return page(request, "sessions.html", 400, mine=mine, problems=checked.problems,
                text=raw.decode("utf-8", "replace")[:catalog.MAX_SCRIPT], name=name)


# --- health ----------------------------------------------------------------------------------------------
PLAIN = {"ok": "Fine", "warn": "Worth a look", "fail": "Needs fixing"}


async def health(request: Request) -> Response:
    ctx = _ctx(request)

    def diagnose() -> list[Any]:
        if ctx.doctor is not None:
            return ctx.doctor()
        from voiceguide.remote.health import findings  # in a child process: no engine is built here

        return findings(ctx.config_path)

    try:
        findings = await to_thread.run_sync(diagnose)
    except VoiceguideError as exc:
        findings = []
        return page(request, "health.html", findings=findings, plain=PLAIN, error=str(exc))
    return page(request, "health.html", findings=findings, plain=PLAIN, error="")


def routes() -> list[BaseRoute]:
    """This module's routes."""
    return [
        Route("/", now, methods=["GET"]),
        Route("/now/start", start, methods=["POST"]),
        Route("/now/volume", volume, methods=["POST"]),
        Route("/now/{action:str}", control, methods=["POST"]),
        Route("/schedule", schedule, methods=["GET"]),
        Route("/schedule/add", schedule_add, methods=["POST"]),
        Route("/schedule/quiet", quiet_set, methods=["POST"]),
        Route("/schedule/{number:int}", schedule_set, methods=["POST"]),
        Route("/schedule/{number:int}/remove", schedule_remove, methods=["POST"]),
        Route("/sessions", sessions, methods=["GET"]),
        Route("/sessions", upload, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
