"""The open-file limit: raised at start towards what the system allows, so a flood of connections meets the
server's own bounds long before the kernel's (Raspberry Pi OS starts a process with a soft limit of 1024)."""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

WANTED_FILES = 65536
"""The soft limit asked for (or the hard limit, when that is lower)."""


def raise_file_limit(wanted: int = WANTED_FILES) -> int:
    """Raise the soft RLIMIT_NOFILE to ``wanted`` or the hard limit, whichever is lower; returns the soft
    limit in force afterwards (never lowers it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (OSError, ValueError) as exc:
            log.info("open-file limit stays at %d (%s)", soft, exc)
            return soft
        log.info("open-file limit raised from %d to %d", soft, target)
        return target
    return soft
