"""What every page of the remote may use: its context, the templates and how a page is rendered (the routes
import these; ``site`` puts them together into the application)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from voiceguide.daemon.config import Remote
from voiceguide.journal.db import JOURNAL_FILE, Journal
from voiceguide.remote.attempts import Attempts
from voiceguide.remote.devices import Devices
from voiceguide.remote.link import Link

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


@dataclass
class Context:
    """What the page may use: nothing else is reachable from a request."""

    remote: Remote
    """The ``[remote]`` settings."""
    config_path: Path
    """The daemon's config file (the schedule is written back here)."""
    journal_folder: Path
    """The journal's folder (``journal.sqlite3`` and the answers' audio)."""
    link: Link
    """The control socket."""
    devices: Devices = field(default_factory=Devices)
    """Paired devices and pairing codes."""
    attempts: Attempts = field(default_factory=Attempts)
    """Wrong pairing codes, per client."""
    scripts_dir: Path | None = None
    """Where uploaded sessions go; None: the user scripts folder."""
    doctor: Callable[[], list[Any]] | None = None
    """What the Health page shows; None: ``voiceguide doctor`` without opening the output."""
    names: tuple[str, ...] = ()
    """Host names the page answers to besides IP addresses, localhost and this device's own name."""
    fingerprint: str = ""
    """The SHA-256 fingerprint of the certificate served (HTTPS), shown on the pairing page."""
    _journal: Journal | None = None

    def journal(self) -> Journal:
        """The journal, opened on first use."""
        if self._journal is None:
            self._journal = Journal(self.journal_folder / JOURNAL_FILE)
        return self._journal

    def close(self) -> None:
        """Close the journal."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def templates() -> Jinja2Templates:
    """The page templates, every value escaped (autoescape on for every template)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return Jinja2Templates(env=env)


def page(request: Request, template: str, status_code: int = 200, /, **values: Any) -> Response:
    """Render a template with the request's CSRF token and the page's settings."""
    ctx: Context = request.app.state.ctx
    values.setdefault("message", request.query_params.get("said", ""))
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, {"csrf": getattr(request.state, "csrf", ""), "journal_on": ctx.remote.journal,
                            "now": time.time(), **values}, status_code=status_code)
    return response
