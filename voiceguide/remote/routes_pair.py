"""Pages: pairing a phone (the code typed, never carried in a URL) and the list of paired devices."""

from __future__ import annotations

from datetime import datetime

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from voiceguide.remote.context import Context, page
from voiceguide.remote.devices import CODE_SECONDS, IDLE_DAYS, Device, Devices
from voiceguide.remote.guard import COOKIE, COOKIE_DAYS, PRE_COOKIE, cookie_name, new_pre_token, set_cookie
from voiceguide.remote.routes_main import _back, _form

PRE_SECONDS = 3600
"""How long the pairing form's own token lives."""


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _pair_page(request: Request, pre: str, status: int = 200, error: str = "") -> Response:
    ctx = _ctx(request)
    locked = ctx.attempts.locked(_client(request))
    if locked and not error:
        error = _paused(locked)
    response = page(request, "pair.html", status, pre=pre, error=error, locked=locked,
                    fingerprint=ctx.fingerprint if request.url.scheme == "https" else "",
                    minutes=int(CODE_SECONDS // 60))
    set_cookie(request, response, PRE_COOKIE, pre, PRE_SECONDS)
    return response


def _paused(seconds: float) -> str:
    minutes = int(seconds // 60) + 1
    return (f"Several wrong codes came from this phone, so pairing from it rests for {minutes} "
            f"minute{'s' if minutes != 1 else ''}. Other phones are not affected.")


async def pair_page(request: Request) -> Response:
    """The pairing form. A ``code`` in the query is ignored: a code never travels in a URL."""
    return _pair_page(request, request.cookies.get(cookie_name(request, PRE_COOKIE)) or new_pre_token())


async def pair(request: Request) -> Response:
    ctx = _ctx(request)
    pre = request.cookies.get(cookie_name(request, PRE_COOKIE), "")
    client = _client(request)
    if ctx.attempts.locked(client):
        return _pair_page(request, pre, 429)
    form = await _form(request)
    code, name = str(form.get("code", "")), str(form.get("name", "") or "a phone")
    token = await to_thread.run_sync(ctx.devices.redeem, code, name)
    if token is None:
        ctx.attempts.wrong(client)
        locked = ctx.attempts.locked(client)
        error = "" if locked else ("That code is not right, or it is no longer valid. Run 'voiceguide remote "
                                   "pair' on the device for a fresh one.")
        return _pair_page(request, pre, 429 if locked else 400, error)
    response = RedirectResponse("/", status_code=303)
    set_cookie(request, response, COOKIE, token, COOKIE_DAYS * 86400)
    response.delete_cookie(cookie_name(request, PRE_COOKIE), path="/", secure=request.url.scheme == "https",
                           httponly=True, samesite="strict")
    return response


def when(stamp: str) -> str:
    """An ISO time as a person reads it: ``7 Dec 2026, 18:05``."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return "not known"
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def _listed(devices: Devices, device: Device) -> dict[str, str | bool]:
    return {"id": device.id, "name": device.name, "paired": when(device.paired),
            "used": when(device.used) if device.used else "not yet seen", "expired": devices.expired(device)}


async def devices_page(request: Request) -> Response:
    devices = _ctx(request).devices
    found = await to_thread.run_sync(devices.list)
    return page(request, "devices.html", devices=[_listed(devices, d) for d in found],
                me=request.state.device.id, idle_days=IDLE_DAYS)


async def forget(request: Request) -> Response:
    """Forget another device (this phone is forgotten on the device itself, so no tap can lock it out)."""
    device_id = request.path_params["id"]
    if device_id in ("all", request.state.device.id):
        return _back("/devices", "This phone is forgotten on the device: voiceguide remote revoke.")
    gone = await to_thread.run_sync(_ctx(request).devices.revoke, device_id)
    return _back("/devices", f"Forgot {gone.name}." if gone else "No such device.")


def routes() -> list[BaseRoute]:
    """This module's routes."""
    return [
        Route("/pair", pair_page, methods=["GET"]),
        Route("/pair", pair, methods=["POST"]),
        Route("/devices", devices_page, methods=["GET"]),
        Route("/devices/{id:str}/forget", forget, methods=["POST"]),
    ]
