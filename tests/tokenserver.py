"""A small token service for the distribution registry's ``auth: token`` mode (tests only).

Issues ES256 JWTs the real registry verifies: the signing certificate (self-signed) is the
registry's ``rootcertbundle`` and travels in the token's ``x5c`` header. Requests with the right
basic credentials get the scope they ask for; anonymous requests get pull access only when
``anonymous_pull`` is set. Every request is logged so tests can count token fetches.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenService:
    """Signs registry tokens; ``cert_path`` goes into the registry config as ``rootcertbundle``."""

    workdir: Path
    username: str
    password: str
    service: str = "provenant-test-registry"
    issuer: str = "provenant-test-issuer"
    anonymous_pull: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    realm: str = ""

    def __post_init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provenant test token signer")])
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = self.workdir / "token-signer.pem"
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._server: ThreadingHTTPServer | None = None

    def token(self, scopes: list[str], subject: str) -> str:
        """A signed JWT granting ``scopes`` (``repository:name:pull,push``)."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        now = int(dt.datetime.now(dt.UTC).timestamp())
        header = {
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()],
        }
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def start(self) -> str:
        """Serve on a free loopback port; returns the realm URL."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                auth = self.headers.get("Authorization", "")
                user = None
                if auth.startswith("Basic "):
                    u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
                    if (u, p) != (service.username, service.password):
                        service.requests.append({"query": query, "user": u, "status": 401})
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = u
                scopes = query.get("scope", [])
                if user is None:
                    scopes = [s.rsplit(":", 1)[0] + ":pull" for s in scopes] if service.anonymous_pull else []
                service.requests.append({"query": query, "user": user, "status": 200})
                body = json.dumps({"token": service.token(scopes, user or "anonymous"), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def stop(self) -> None:
        """Stop serving (bounded: a serving loop that does not answer the shutdown request is left behind)."""
        if self._server is not None:
            server = self._server
            # shutdown() waits without a timeout for serve_forever to notice; under a loaded machine it was once
            # seen waiting forever, stalling the suite. The loop's thread is a daemon, so leaving it is safe.
            waiter = threading.Thread(target=server.shutdown, daemon=True)
            waiter.start()
            waiter.join(timeout=10)
            server.server_close()
