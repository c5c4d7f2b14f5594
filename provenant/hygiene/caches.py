"""Package-manager caches left in the final filesystem (visible regular files only)."""

from __future__ import annotations

import re
from collections import defaultdict

from provenant.hygiene.models import CacheFinding
from provenant.layers.tarwalk import REGULAR
from provenant.layers.view import ImageView

#: (kind, pattern over visible regular file paths). Group ``root`` is the cache directory reported.
#: apt's ``lists/lock`` and ``lists/partial/`` (and ``archives/lock``, ``archives/partial/``) are
#: what ``apt-get clean``/``rm -rf lists/*`` leave or what apt recreates: not a cache left behind.
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("apt-lists", re.compile(r"(?P<root>var/lib/apt/lists)/(?!lock$|partial/|auxfiles/)[^/]+$")),
    ("apt-archives", re.compile(r"(?P<root>var/cache/apt/archives)/[^/]+\.deb$")),
    ("apt-pkgcache", re.compile(r"(?P<root>var/cache/apt)/[^/]+\.bin$")),
    ("apk-cache", re.compile(r"(?P<root>var/cache/apk)/[^/]+$")),
    ("dnf-cache", re.compile(r"(?P<root>var/cache/(?:dnf|yum))/.+$")),
    ("pip-cache", re.compile(r"(?P<root>(?:root|home/[^/]+)/\.cache/pip)/.+$")),
    ("npm-cache", re.compile(r"(?P<root>(?:.+/)?\.npm/_cacache)/.+$")),
    ("yarn-cache", re.compile(r"(?P<root>(?:usr/local/share|root|home/[^/]+)/\.cache/yarn)/.+$")),
    ("go-build-cache", re.compile(r"(?P<root>(?:root|home/[^/]+)/\.cache/go-build)/.+$")),
)


def cache_dirs(view: ImageView) -> list[CacheFinding]:
    """Non-empty cache directories of the final view, with their file count and bytes."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for path, entry in view.entries.items():
        if entry.row[1] != REGULAR:
            continue
        for kind, rx in RULES:
            m = rx.match(path)
            if m:
                t = totals[(kind, m.group("root"))]
                t[0] += 1
                t[1] += entry.row[2]
                break
    return [
        CacheFinding(kind=kind, path="/" + root, files=n, bytes=size)
        for (kind, root), (n, size) in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
