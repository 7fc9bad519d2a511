"""The remote's own TLS certificate: made once on this device, kept beside the paired devices, reused.

No certificate authority knows a bedside device, so the device signs its own certificate (an ECDSA P-256
key, quick to make on a Pi). A browser warns about it once; the person checks the certificate's SHA-256
fingerprint against the one ``voiceguide remote pair`` prints (docs/remote.md, "Threat model"). The key
never leaves the device: ``tls-key.pem``, mode 0600, in the 0700 ``remote`` folder of voiceguide's data.

The certificate lives :data:`VALID_DAYS` days (Apple's devices refuse longer-lived server certificates) and
is made anew in its last :data:`RENEW_DAYS` days; its fingerprint then changes, and the pairing page and
``voiceguide remote pair`` show the new one.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import ipaddress
import logging
import os
import re
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voiceguide import places
from voiceguide.daemon.config import Remote
from voiceguide.errors import BackendError, InputFileError
from voiceguide.safe_read import read_bytes

log = logging.getLogger(__name__)

CERT_FILE = "tls-cert.pem"
"""The certificate's file name in the remote's folder."""
KEY_FILE = "tls-key.pem"
"""The private key's file name (mode 0600)."""
LOCK_FILE = "tls.lock"
"""Held while the certificate is checked or made."""
VALID_DAYS = 825
"""How long a made certificate is valid."""
RENEW_DAYS = 30
"""A certificate that expires within this many days is made anew."""
MAX_PEM = 64 * 1024
"""Largest certificate or key file read."""
ROUTE_PROBE = "192.0.2.1"
"""A documentation address (TEST-NET-1) used only to ask the kernel which local address routes outward:
connecting a UDP socket sends nothing."""


@dataclass(frozen=True)
class Certificate:
    """The files uvicorn serves and what the person checks."""

    certificate: Path
    """The certificate (PEM)."""
    key: Path
    """Its private key (PEM, mode 0600)."""
    fingerprint: str
    """SHA-256 of the certificate (DER), as colon-separated upper-case hex pairs, as browsers show it."""


def is_loopback(address: str) -> bool:
    """Whether ``address`` (an IP address) reaches this device only."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def outward_address() -> str | None:
    """This device's address on the home network (the one the default route leaves by), or None.

    Nothing is sent: connecting a UDP socket only picks a route."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((ROUTE_PROBE, 9))
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address == "0.0.0.0" or is_loopback(address) else address


def names_for(listen: str) -> tuple[list[str], list[str]]:
    """The host names and IP addresses the certificate is made for, when listening on ``listen``."""
    host = socket.gethostname().lower()
    names = ["localhost", host, f"{host}.local"]
    addresses = ["127.0.0.1", "::1"]
    wanted = outward_address() if ipaddress.ip_address(listen).is_unspecified else listen
    if wanted and wanted not in addresses:
        addresses.append(wanted)
    return list(dict.fromkeys(names)), addresses


def fingerprint_of(der: bytes) -> str:
    """``AB:CD:...``: the SHA-256 of a DER certificate as browsers show it."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def ensure(folder: Path, listen: str, now: dt.datetime | None = None, child: bool = False) -> Certificate:
    """The certificate in ``folder``, made now if it is missing, unreadable or about to expire.

    Reusing it needs only the standard library: ``cryptography`` adds 13 MB to a process, so it is imported
    only to make a certificate, and with ``child`` (the daemon) that happens in a short-lived child process.
    A lock file keeps the daemon and ``voiceguide remote pair`` from making two at once (a key of one with
    the certificate of the other)."""
    try:
        places.private_dir(folder)
        lock = os.open(folder / LOCK_FILE, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise BackendError(f"cannot keep the remote's certificate in {folder}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure(folder, listen, now or dt.datetime.now(dt.UTC), _make_in_child if child else _make)
    finally:
        os.close(lock)  # releases the lock


def _ensure(folder: Path, listen: str, now: dt.datetime,
            make: Callable[[Path, str, dt.datetime], Certificate]) -> Certificate:
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    if not cert_path.exists() and not key_path.exists():
        return make(folder, listen, now)
    try:
        der = first_der(read_bytes(cert_path, MAX_PEM))
        read_bytes(key_path, MAX_PEM)  # present, regular and small
        if key_path.stat().st_mode & 0o077:
            key_path.chmod(0o600)
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path)  # the key fits the certificate
        ends = not_after(der)
        if ends - now > dt.timedelta(days=RENEW_DAYS):
            return Certificate(cert_path, key_path, fingerprint_of(der))
        log.info("the remote's certificate expires on %s: making a new one", ends.date())
    except (InputFileError, OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        log.warning("the remote's certificate cannot be used (%s): making a new one", exc)
    return make(folder, listen, now)


PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----")


def first_der(pem: bytes) -> bytes:
    """The first certificate of a PEM file (a chain starts with the server's own), as DER."""
    found = PEM_BLOCK.search(pem)
    if found is None:
        raise ValueError("no PEM certificate in it")
    return base64.b64decode(b"".join(found[1].split()), validate=True)


def _der_item(data: bytes, at: int) -> tuple[int, int, int]:
    """The DER item at ``at``: its tag, where its content starts and where it ends."""
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("not a certificate (a DER length)")
        length, start = int.from_bytes(data[start:start + count], "big"), start + count
    if start + length > len(data):
        raise ValueError("not a certificate (cut short)")
    return tag, start, start + length


def not_after(der: bytes) -> dt.datetime:
    """When a DER certificate expires (read from its ``validity``, without a crypto library)."""
    try:
        _, tbs, _ = _der_item(der, 0)  # Certificate
        _, at, _ = _der_item(der, tbs)  # TBSCertificate
        if der[at] == 0xA0:  # [0] version
            at = _der_item(der, at)[2]
        for _ in range(3):  # serialNumber, signature, issuer
            at = _der_item(der, at)[2]
        tag, validity, _ = _der_item(der, at)
        end = _der_item(der, validity)[2]  # notBefore
        tag, start, stop = _der_item(der, end)  # notAfter
        text = der[start:stop].decode("ascii")
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError("not a certificate") from exc
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ, years 1950-2049
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    elif tag != 0x18:  # GeneralizedTime: YYYYMMDDHHMMSSZ
        raise ValueError("not a certificate (its validity)")
    return dt.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=dt.UTC)


def _make(folder: Path, listen: str, now: dt.datetime) -> Certificate:
    try:
        from cryptography import x509
    except ImportError as exc:
        raise BackendError("HTTPS for the phone remote needs its extra: pip install 'voiceguide[remote]'") from exc
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    names, addresses = names_for(listen)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"voiceguide on {names[1]}"[:64])])
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    try:
        _write(key_path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        _write(cert_path, cert.public_bytes(Encoding.PEM))
    except OSError as exc:
        raise BackendError(f"cannot keep the remote's certificate in {folder}: {exc.strerror or exc}") from exc
    made = Certificate(cert_path, key_path, fingerprint_of(cert.public_bytes(Encoding.DER)))
    log.info("made the remote's certificate for %s (SHA-256 %s)", ", ".join(names + addresses), made.fingerprint)
    return made


CHILD_TIMEOUT = 120.0
"""Seconds the child that makes a certificate may take (well under a second here; a Pi is slower)."""


def _make_in_child(folder: Path, listen: str, now: dt.datetime) -> Certificate:
    """:func:`_make` in a child process (``python -m voiceguide.remote.cert FOLDER LISTEN``), so the caller
    never loads ``cryptography``. It runs in ``folder``, not in the caller's working directory."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH")))))
    try:
        done = subprocess.run([sys.executable, "-m", "voiceguide.remote.cert", str(folder), listen], cwd=folder,
                              env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendError(f"cannot make the remote's certificate: {exc}") from exc
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackendError(f"cannot make the remote's certificate: {said}")
    made = Certificate(folder / CERT_FILE, folder / KEY_FILE,
                       fingerprint_of(first_der(read_bytes(folder / CERT_FILE, MAX_PEM))))
    log.info("made the remote's certificate (SHA-256 %s)", made.fingerprint)
    return made


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file of mode 0600, then rename over ``path``."""
    places.write_private(path, data)


def own(certificate: Path, key: Path) -> Certificate:
    """The person's own certificate (``[remote] certificate``/``key``), with its fingerprint."""
    try:
        der = first_der(read_bytes(certificate, MAX_PEM))
    except (InputFileError, ValueError) as exc:
        raise BackendError(f"cannot use the TLS certificate {certificate}: {exc}") from exc
    return Certificate(certificate, key, fingerprint_of(der))


def for_remote(remote: Remote, folder: Path, child: bool = False) -> Certificate | None:
    """What ``remote`` serves HTTPS with: its own files, the device's own certificate in ``folder`` (made on
    first use; in a child process with ``child``), or None for plain HTTP."""
    if not remote.tls:
        return None
    if remote.certificate is not None and remote.key is not None:
        return own(remote.certificate, remote.key)
    return ensure(folder, remote.listen, child=child)


if __name__ == "__main__":  # the child of _make_in_child: FOLDER LISTEN
    try:
        print(_make(Path(sys.argv[1]), sys.argv[2], dt.datetime.now(dt.UTC)).fingerprint)
    except (BackendError, IndexError) as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
