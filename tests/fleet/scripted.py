"""A scripted registry holding a small fleet (repositories x tags of one-layer images), which logs every request."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from tests.hostile.server import HostileServer, Request, hostile_server, response, sha256

REPOS = ("team/a", "team/b")
TAGS = ("v1", "v2", "v3")


def one_layer(name: str, version: str) -> tuple[bytes, str]:
    """A gzip tar holding one Python distribution's METADATA (what the python cataloger reads), and its diff_id."""
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"usr/lib/python3/dist-packages/{name}-{version}.dist-info/METADATA")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    return gzip.compress(raw.getvalue(), mtime=0), sha256(raw.getvalue())


def put_app(srv: HostileServer, repo: str, tag: str, version: str) -> str:
    """Push (or move) ``repo:tag`` to a one-layer image of ``app-<last letter of repo>`` at ``version``."""
    layer, diff_id = one_layer(f"app-{repo[-1]}", version)
    return srv.put_image(repo, tag, [layer], diff_ids=[diff_id])


@contextmanager
def scripted_fleet(repos: Sequence[str] = REPOS, tags: Sequence[str] = TAGS) -> Iterator[HostileServer]:
    """``repos`` x ``tags``, each tag its own image (``1.<n>``), with a tags/list route."""
    with hostile_server() as srv:
        for repo in repos:
            for n, tag in enumerate(tags):
                put_app(srv, repo, tag, f"1.{n}")

        def tags_list(req: Request, conn: object, s: HostileServer) -> None:
            repo = req.path.split("/v2/", 1)[1].split("/tags/list", 1)[0]
            names = sorted({k.split(":", 1)[1] for k in s.manifests if k.startswith(f"{repo}:")})
            body = json.dumps({"name": repo, "tags": names}).encode()
            conn.sendall(response(200, body, {"Content-Type": "application/json"}))  # type: ignore[attr-defined]

        srv.route("GET", r"/tags/list", tags_list)
        yield srv
