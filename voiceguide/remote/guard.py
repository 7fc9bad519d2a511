"""The security middleware every request passes: who it is, whether it may change anything, safe headers.

- A page or API call needs the cookie of a paired device (else: pages redirect to ``/pair``, the API 401).
- A request that changes anything (any method but GET/HEAD) needs an ``Origin`` equal to this page's own
  origin and the CSRF token (``X-CSRF-Token`` header or ``csrf`` query field) that belongs to the device's
  cookie; otherwise 403. Pairing itself uses a pre-pairing cookie as its CSRF token.
- Every answer carries a strict Content Security Policy and no CORS header at all.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp

from voiceguide.remote.devices import Devices

COOKIE = "vg_remote"
"""The device token's cookie over plain HTTP (on loopback); over HTTPS it is :data:`SECURE_PREFIX` + this."""
PRE_COOKIE = "vg_pair"
"""The pre-pairing cookie (the CSRF token of the pairing form); the same prefix over HTTPS."""
SECURE_PREFIX = "__Host-"
"""Over HTTPS a cookie named so is Secure, has Path=/ and no Domain: the browser refuses it otherwise, so no
other name on the network (and no plain-HTTP page) can set or overwrite it."""
COOKIE_DAYS = 90
"""How long the browser keeps the device cookie; renewed when the device's last use is written."""
OPEN_PATHS = ("/pair", "/static/")
"""Paths served without a paired device."""
SAFE_METHODS = ("GET", "HEAD")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
                               "object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send "Origin: null" on form posts
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}
"""Sent with every answer."""


def cookie_name(request: Request, base: str = COOKIE) -> str:
    """The name of cookie ``base`` on this connection: ``__Host-`` prefixed over HTTPS."""
    return SECURE_PREFIX + base if request.url.scheme == "https" else base


def set_cookie(request: Request, response: Response, base: str, value: str, max_age: int) -> None:
    """Set cookie ``base``: HttpOnly, SameSite=Strict, Path=/; Secure with the prefix over HTTPS."""
    response.set_cookie(cookie_name(request, base), value, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def csrf_for(token: str) -> str:
    """The CSRF token that goes with a device token (derived, so nothing more is stored)."""
    return hmac.new(token.encode("utf-8"), b"voiceguide-csrf", hashlib.sha256).hexdigest()[:32]


def same_origin(request: Request) -> bool:
    """Whether the request's ``Origin`` header is this page's own scheme, host and port."""
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    return origin is not None and host is not None and hmac.compare_digest(origin, f"{request.url.scheme}://{host}")


def local_names() -> tuple[str, ...]:
    """The names this device answers to besides IP addresses: localhost, its host name and NAME.local."""
    name = socket.gethostname().lower()
    return ("localhost", name, f"{name}.local")


def known_host(host: str, names: set[str]) -> bool:
    """Whether the ``Host`` header names this device: an IP address or one of ``names``.

    Refusing other names stops DNS rebinding: a web page whose own name was pointed at this device
    would otherwise count as this page's origin."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name in names
    return True


def _sent_csrf(request: Request) -> str:
    return request.headers.get("x-csrf-token") or request.query_params.get("csrf") or ""


class Guard(BaseHTTPMiddleware):
    """Authentication, CSRF and Origin checks, and the security headers."""

    def __init__(self, app: ASGIApp, devices: Devices, names: tuple[str, ...] = ()) -> None:
        super().__init__(app)
        self.devices = devices
        self.names = {n.lower() for n in (*names, *local_names())}

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await self._checked(request, call_next)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _checked(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not known_host(request.headers.get("host", ""), self.names):
            return PlainTextResponse("unknown host name: open the page by the device's address", status_code=421)
        path = request.url.path
        changes = request.method not in SAFE_METHODS
        if changes and not same_origin(request):
            return _refuse(request, 403, "this request did not come from the remote's own page")
        if path == "/pair" or path.startswith(OPEN_PATHS[1]):
            if changes:
                pre = request.cookies.get(cookie_name(request, PRE_COOKIE), "")
                if not pre or not hmac.compare_digest(_sent_csrf(request), pre):
                    return _refuse(request, 403, "the pairing form has expired; open it again")
            return await call_next(request)
        token = request.cookies.get(cookie_name(request), "")
        device, renewed = self.devices.use(token) if token else (None, False)
        if device is None:
            if path.startswith("/api/") or changes:
                return _refuse(request, 401, "pair this device first (voiceguide remote pair)")
            return RedirectResponse("/pair", status_code=303)
        request.state.device = device
        request.state.csrf = csrf_for(token)
        if changes and not hmac.compare_digest(_sent_csrf(request), request.state.csrf):
            return _refuse(request, 403, "missing or wrong CSRF token; reload the page")
        response = await call_next(request)
        if renewed:
            set_cookie(request, response, COOKIE, token, COOKIE_DAYS * 86400)
        return response


def _refuse(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    return PlainTextResponse(message, status_code=status)


def new_pre_token() -> str:
    """A fresh pre-pairing token."""
    return secrets.token_urlsafe(24)
