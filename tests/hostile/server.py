"""A scripted HTTP/1.1 server on 127.0.0.1 for hostile-registry cases: it says whatever a test makes it say.

It serves a small OCI registry from memory (``put_image``) and lets a test replace any answer with a
handler that writes raw bytes, lies in its headers, trickles, never ends or drops the connection
(``route``). Handlers should loop on ``server.stopping`` so that ``stop()`` ends them.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from tests.fakeregistry import OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, sha256
from tests.fakeregistry import canonical_json as canonical

# The registry vocabulary is tests/fakeregistry.py's, offered here too so that a hostile case needs one import.
__all__ = [
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER_GZIP",
    "OCI_MANIFEST",
    "Handler",
    "HostileServer",
    "Request",
    "canonical",
    "endless",
    "hostile_server",
    "response",
    "sha256",
    "trickle",
    "unending",
]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[[Request, socket.socket, "HostileServer"], None]


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, reason: str = "X") -> bytes:
    """Raw bytes of one answer; ``Content-Length`` is the body's unless ``headers`` says otherwise."""
    hdrs = {"Content-Length": str(len(body)), **(headers or {})}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return head.encode("latin-1") + body


@dataclass
class HostileServer:
    """Registry content plus scripted overrides; ``host`` is ``127.0.0.1:PORT``."""

    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # "repo:tag|digest" -> (type, bytes)
    blobs: dict[str, bytes] = field(default_factory=dict)
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Connections accepted so far (keep-alive tests count them).
    accepted: int = 0

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    # --- content
    def put_blob(self, data: bytes) -> dict[str, Any]:
        digest = sha256(data)
        self.blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str = OCI_MANIFEST) -> str:
        digest = sha256(body)
        self.manifests[f"{repo}@{digest}"] = (media_type, body)
        self.manifests[f"{repo}:{ref}"] = (media_type, body)
        return digest

    def put_image(
        self,
        repo: str,
        tag: str,
        layers: list[bytes],
        *,
        layer_type: str = OCI_LAYER_GZIP,
        diff_ids: list[str] | None = None,
        config: dict[str, Any] | None = None,
    ) -> str:
        """An image manifest with these (already compressed) layers; diff_ids default to sha256 of the bytes."""
        cfg = config or {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids or [sha256(b) for b in layers]},
            "config": {},
        }
        cfg_desc = {"mediaType": OCI_CONFIG, **self.put_blob(canonical(cfg))}
        layer_descs = [{"mediaType": layer_type, **self.put_blob(b)} for b in layers]
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfg_desc, "layers": layer_descs}
        return self.put_manifest(repo, tag, canonical(manifest))

    # --- scripting
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer requests whose path matches ``pattern`` (a regex, searched) with ``handler``; newest wins."""
        self.routes.insert(0, (method, re.compile(pattern), handler))

    def answer(self, method: str, pattern: str, raw: bytes) -> None:
        """Answer with fixed raw bytes."""
        self.route(method, pattern, lambda req, conn, srv: conn.sendall(raw))

    # --- life cycle
    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._sock.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        conn.settimeout(120)
        buf = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
                req = Request(method, path, headers)
                self.log.append(req)
                handler = next((h for m, rx, h in self.routes if m in (method, "*") and rx.search(path)), self._default)
                handler(req, conn, self)
        except OSError:
            return
        finally:
            with suppress(OSError):
                conn.close()

    def _default(self, req: Request, conn: socket.socket, srv: HostileServer) -> None:
        m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/?]+)", req.path.split("?")[0])
        if req.path.rstrip("/") == "/v2":
            conn.sendall(response(200, b"{}", {"Content-Type": "application/json"}))
            return
        if m is None:
            conn.sendall(response(404, b'{"errors":[{"code":"NOT_FOUND","message":"no route"}]}'))
            return
        repo, kind, ref = m.groups()
        if kind == "manifests":
            key = f"{repo}@{ref}" if ref.startswith("sha256:") else f"{repo}:{ref}"
            found = self.manifests.get(key)
            if found is None:
                conn.sendall(response(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}'))
                return
            media_type, body = found
            hdrs = {"Content-Type": media_type, "Docker-Content-Digest": sha256(body)}
            conn.sendall(response(200, b"" if req.method == "HEAD" else body, hdrs) if req.method != "HEAD"
                         else response(200, b"", {**hdrs, "Content-Length": str(len(body))}))  # fmt: skip
            return
        data = self.blobs.get(ref)
        if data is None:
            conn.sendall(response(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}'))
            return
        conn.sendall(response(200, b"" if req.method == "HEAD" else data,
                              {"Content-Length": str(len(data)), "Docker-Content-Digest": ref}))  # fmt: skip


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    """A started :class:`HostileServer`, stopped afterwards."""
    srv = HostileServer().start()
    try:
        yield srv
    finally:
        srv.stop()


def trickle(data: bytes, every: float, srv: HostileServer, conn: socket.socket) -> None:
    """Send ``data`` one byte at a time, ``every`` seconds apart, until done or the server stops."""
    for i in range(len(data)):
        if srv.stopping.wait(every):
            return
        conn.sendall(data[i : i + 1])


def endless(conn: socket.socket, srv: HostileServer, chunk: bytes = b"\0" * 65536, seconds: float = 120.0) -> None:
    """Send ``chunk`` again and again (a body that never ends) until the client leaves or time is up."""
    end = time.monotonic() + seconds
    while not srv.stopping.is_set() and time.monotonic() < end:
        conn.sendall(chunk)


def unending(head: bytes, start: bytes = b"", chunk: bytes = b"\0" * 65536) -> Handler:
    """A handler that sends ``head`` (status line and headers), then ``start``, then ``chunk`` without end."""

    def handler(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(head + start)
        endless(conn, srv, chunk=chunk)

    return handler
