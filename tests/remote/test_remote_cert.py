"""The remote's own certificate: HTTPS by default beside loopback, made once with the device's names, the key
kept 0600, reused, renewed before it expires; served by the real server, checked by a real TLS client."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import stat
from pathlib import Path

import httpx
import pytest

pytest.importorskip("cryptography")

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from voiceguide.daemon.config import DaemonConfig, Remote
from voiceguide.daemon.config_read import loads_config
from voiceguide.errors import ConfigError
from voiceguide.remote import cert
from voiceguide.remote.server import RemoteServer


def test_https_is_the_default_on_every_address_but_loopback() -> None:
    assert loads_config("[remote]\n").remote.tls is False  # type: ignore[union-attr]
    assert loads_config('[remote]\nlisten = "::1"\n').remote.tls is False  # type: ignore[union-attr]
    for listen in ("192.168.1.20", "0.0.0.0", "::"):
        assert loads_config(f'[remote]\nlisten = "{listen}"\n').remote.tls is True, listen  # type: ignore[union-attr]
    assert loads_config('[remote]\nlisten = "0.0.0.0"\nhttps = false\n').remote.tls is False  # type: ignore[union-attr]
    assert loads_config("[remote]\nhttps = true\n").remote.tls is True  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="https must be true or false"):
        loads_config('[remote]\nhttps = "yes"\n')


def test_the_certificate_is_made_once_with_the_devices_names_and_a_private_key(tmp_path: Path) -> None:
    folder = tmp_path / "remote"
    made = cert.ensure(folder, "192.168.1.20")
    assert stat.S_IMODE(made.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    loaded = x509.load_pem_x509_certificate(made.certificate.read_bytes())
    assert made.fingerprint == ":".join(f"{b:02X}" for b in loaded.fingerprint(hashes.SHA256()))
    alt = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    addresses = {str(a) for a in alt.get_values_for_type(x509.IPAddress)}
    assert {"192.168.1.20", "127.0.0.1", "::1"} <= addresses
    assert {"localhost", socket.gethostname().lower()} <= set(alt.get_values_for_type(x509.DNSName))
    validity = loaded.not_valid_after_utc - loaded.not_valid_before_utc
    assert validity <= dt.timedelta(days=826), "Apple's devices refuse server certificates valid longer"
    again = cert.ensure(folder, "192.168.1.20")
    assert again == made and again.certificate.read_bytes() == made.certificate.read_bytes(), "reused"
    made.key.chmod(0o644)
    assert stat.S_IMODE(cert.ensure(folder, "192.168.1.20").key.stat().st_mode) == 0o600


def test_a_certificate_near_its_end_or_damaged_is_made_anew(tmp_path: Path) -> None:
    made = cert.ensure(tmp_path, "127.0.0.1")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=cert.VALID_DAYS - cert.RENEW_DAYS + 1)
    renewed = cert.ensure(tmp_path, "127.0.0.1", now=later)
    assert renewed.fingerprint != made.fingerprint
    made.certificate.write_text("not a certificate")
    assert cert.ensure(tmp_path, "127.0.0.1").fingerprint not in ("", renewed.fingerprint)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_server_serves_https_with_its_own_certificate(tmp_path: Path) -> None:
    """A real TLS client that trusts only the made certificate reaches the page, with the host name checked."""
    port = _free_port()
    folder = tmp_path / "remote"
    server = RemoteServer(DaemonConfig(path=tmp_path / "config.toml", journal=tmp_path / "journal",
                                       remote=Remote(port=port, https=True)), tmp_path / "ctl.sock", folder=folder)
    server.start(lambda event: None)
    try:
        made = cert.ensure(folder, "127.0.0.1")  # the one the server made: reused, not made again
        context = ssl.create_default_context(cafile=str(made.certificate))
        reply = httpx.get(f"https://127.0.0.1:{port}/pair", verify=context, timeout=10)
        assert reply.status_code == 200
        assert made.fingerprint in reply.text
        assert reply.headers["set-cookie"].startswith("__Host-vg_pair=") and "Secure" in reply.headers["set-cookie"]
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"https://127.0.0.1:{port}/pair", timeout=5)  # the system's CAs do not know it
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/pair", timeout=5)
    finally:
        server.close()


def test_two_makers_at_once_agree_on_one_certificate(tmp_path: Path) -> None:
    """The daemon and 'remote pair' may start together: one key, one certificate, the same for both."""
    from concurrent.futures import ThreadPoolExecutor

    from cryptography.hazmat.primitives.serialization import PublicFormat, load_pem_private_key

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda _: cert.ensure(tmp_path, "127.0.0.1"), range(4)))
    assert len({m.fingerprint for m in made}) == 1
    key = load_pem_private_key(made[0].key.read_bytes(), None)
    served = x509.load_pem_x509_certificate(made[0].certificate.read_bytes())
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*spki) == served.public_key().public_bytes(*spki)


def test_reusing_the_certificate_needs_no_crypto_library(tmp_path: Path) -> None:
    """The daemon reads a kept certificate with the standard library alone (cryptography is 13 MB more)."""
    import subprocess
    import sys

    made = cert.ensure(tmp_path, "127.0.0.1")
    probe = ("import sys; from pathlib import Path; from voiceguide.remote import cert; "
             f"c = cert.ensure(Path({str(tmp_path)!r}), '127.0.0.1'); "
             "print(c.fingerprint, any(m.startswith('cryptography') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == [made.fingerprint, "False"], done.stdout + done.stderr
    loaded = x509.load_pem_x509_certificate(made.certificate.read_bytes())
    assert cert.not_after(loaded.public_bytes(Encoding.DER)) == loaded.not_valid_after_utc


def test_a_key_that_does_not_fit_the_certificate_is_made_anew(tmp_path: Path) -> None:
    made = cert.ensure(tmp_path / "a", "127.0.0.1")
    other = cert.ensure(tmp_path / "b", "127.0.0.1")
    made.key.write_bytes(other.key.read_bytes())
    again = cert.ensure(tmp_path / "a", "127.0.0.1")
    assert again.fingerprint not in (made.fingerprint, other.fingerprint)
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(again.certificate, again.key)


def test_the_daemons_server_makes_its_certificate_in_a_child(tmp_path: Path) -> None:
    """The first start with HTTPS makes the certificate without loading cryptography into the daemon."""
    import subprocess
    import sys

    port = _free_port()
    probe = f"""
import sys
from pathlib import Path
from voiceguide.daemon.config import DaemonConfig, Remote
from voiceguide.remote.server import RemoteServer
folder = Path({str(tmp_path / "remote")!r})
server = RemoteServer(DaemonConfig(path=folder.parent / "config.toml", journal=folder.parent / "journal",
                                   remote=Remote(port={port}, https=True)), folder.parent / "ctl.sock", folder=folder)
server.start(lambda event: None)
server.close()
print(any(m.startswith("cryptography") for m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"], done.stdout + done.stderr
    child_made = (tmp_path / "remote" / cert.CERT_FILE).read_bytes()
    made = cert.ensure(tmp_path / "remote", "127.0.0.1")
    assert made.certificate.read_bytes() == child_made, "the child's certificate is whole and reused as it is"
    assert stat.S_IMODE(made.key.stat().st_mode) == 0o600
