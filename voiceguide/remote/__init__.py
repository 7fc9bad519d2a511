"""The phone remote: a private web page the daemon serves on this device (``pip install 'voiceguide[remote]'``).

Modules: :mod:`.devices` (pairing codes and device tokens, stored hashed; last use and expiry),
:mod:`.attempts` (wrong codes per client), :mod:`.cert` (the device's own TLS certificate), :mod:`.guard`
(the security middleware: cookie, CSRF, Origin, headers), :mod:`.link` (the daemon's control socket, the one way in),
:mod:`.config_edit` (schedule and quiet hours written back with tomlkit), :mod:`.chart` (the mood chart as
SVG), :mod:`.app` and :mod:`.routes_*` (the Starlette application), :mod:`.server` (uvicorn on a thread of
the daemon) and :mod:`.cli` (``voiceguide remote pair|devices|revoke``).
"""
