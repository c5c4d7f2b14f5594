"""The filesystem view of an image: layers applied in order with whiteouts, per-layer visibility of
parsed files (for attribution), and symlink resolution inside the view."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from provenant.catalog.base import ParsedFile, ViewFile
from provenant.layers.scan import CapturedFile, LayerScan, Row
from provenant.layers.tarwalk import DIRECTORY, SYMLINK
from provenant.sbom.model import Package

MAX_SYMLINK_HOPS = 40


def _parent(path: str) -> str:
    """``posixpath.dirname`` for the tar walk's clean paths (no leading, trailing or doubled slash),
    at a fraction of its cost: it runs twice per entry of every layer."""
    return path.rpartition("/")[0]


@dataclass(frozen=True)
class VisibleEntry:
    """A path in the view: the layer whose copy is visible and its listing row."""

    layer_index: int
    row: Row


class _Tree:
    """Path → visible entry, with a child index so whole subtrees can be removed cheaply."""

    def __init__(self) -> None:
        self.entries: dict[str, VisibleEntry] = {}
        self.children: dict[str, set[str]] = defaultdict(set)

    def remove_subtree(self, path: str, *, keep_root: bool = False) -> None:
        stack = [path]
        while stack:
            p = stack.pop()
            kids = self.children.pop(p, None)
            if kids:
                stack.extend(kids)
            if p == path and keep_root:
                continue
            self.entries.pop(p, None)
            if p == path:  # descendants' parents are removed whole; only the top needs unlinking
                sibs = self.children.get(_parent(p))
                if sibs is not None:
                    sibs.discard(p)

    def add(self, layer_index: int, row: Row) -> None:
        path = row[0]
        if row[1] != DIRECTORY and self.children.get(path):
            # A file or symlink replacing a directory hides everything lower layers had below it.
            self.remove_subtree(path, keep_root=True)
        self.entries[path] = VisibleEntry(layer_index, row)
        child, parent = path, _parent(path)
        # Register the path with every ancestor so a whiteout of any of them finds it.
        while True:
            kids = self.children[parent]
            if child in kids:
                break  # pragma: no mutate (last statement: break and return are the same)
            kids.add(child)
            if not parent:
                break  # pragma: no mutate (last statement: break and return are the same)
            child, parent = parent, _parent(parent)


class ImageView:
    """Layers applied bottom-up: whiteouts and opaque directories hide lower content."""

    def __init__(self, scans: Sequence[LayerScan]) -> None:
        self.scans = list(scans)
        self._tree = _Tree()
        # (cataloger, path) -> {layer index: captured file} for every layer that parsed that path
        self._captures: dict[tuple[str, str], dict[int, CapturedFile]] = defaultdict(dict)
        for i, scan in enumerate(self.scans):
            for c in scan.captured:
                self._captures[(c.cataloger, c.path)][i] = c
        # (cataloger, path) -> visible capture layer per layer index (None: not visible/not parsed)
        self.timeline: dict[tuple[str, str], list[int | None]] = {k: [] for k in self._captures}
        for i, scan in enumerate(self.scans):
            self._apply(i, scan)
            for key, per_layer in self._captures.items():
                vis = self._tree.entries.get(key[1])
                self.timeline[key].append(vis.layer_index if vis and vis.layer_index in per_layer else None)

    def _apply(self, index: int, scan: LayerScan) -> None:
        for d in scan.opaque_dirs:
            self._tree.remove_subtree(d, keep_root=True)
        for w in scan.whiteouts:
            self._tree.remove_subtree(w)
        for row in scan.rows:
            self._tree.add(index, row)

    @property
    def entries(self) -> dict[str, VisibleEntry]:
        """Every visible path of the final filesystem."""
        return self._tree.entries

    def resolve(self, path: str) -> str | None:
        """``path`` with every symlink in it followed inside the view (loop-safe); None if dangling."""
        parts = [p for p in path.split("/") if p]
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            if part == ".":
                continue
            candidate = "/".join([*done, part])
            entry = self._tree.entries.get(candidate)
            if entry is not None and entry.row[1] == SYMLINK:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target = entry.row[4]
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p] + parts
                continue
            done.append(candidate.rsplit("/", 1)[-1])
        resolved = "/".join(done)
        return resolved if resolved in self._tree.entries else None

    def visible_files(self, cataloger: str) -> list[ViewFile]:
        """Parsed files of ``cataloger`` whose parsed copy is the one visible in the final view."""
        out: list[ViewFile] = []
        top = len(self.scans) - 1
        for (name, path), per_layer in self._captures.items():
            if name != cataloger:
                continue
            layer = self.timeline[(name, path)][top] if top >= 0 else None
            if layer is not None:
                out.append(ViewFile(path, layer, per_layer[layer].parsed))
        return sorted(out, key=lambda f: f.path)

    def symlinked_files(self, cataloger: str, match: Callable[[str], bool]) -> list[ViewFile]:
        """Files a cataloger asked for by a path that is a symlink in the final view, served as the
        parsed file the link resolves to (when the same cataloger parsed that target)."""
        by_path = {f.path: f for f in self.visible_files(cataloger)}
        out = []
        for path, entry in self._tree.entries.items():
            if entry.row[1] != SYMLINK or not match(path):
                continue
            target = self.resolve(path)
            if target is not None and target in by_path:
                f = by_path[target]
                out.append(ViewFile(path, f.layer_index, f.parsed))
        return out

    def parsed_at(self, cataloger: str, path: str, layer: int) -> ParsedFile:
        """The parse of ``path`` by ``cataloger`` made in layer ``layer``."""
        return self._captures[(cataloger, path)][layer].parsed

    def keys_per_layer(self, cataloger: str) -> list[set[tuple[str, str, str, str]]]:
        """For each layer index, the package keys of ``cataloger`` visible in that layer's view."""
        out: list[set[tuple[str, str, str, str]]] = [set() for _ in self.scans]
        for (name, path), line in self.timeline.items():
            if name != cataloger:
                continue
            for j, layer in enumerate(line):
                if layer is not None:
                    out[j].update(package_key(p) for p in self.parsed_at(name, path, layer).packages)
        return out


def package_key(pkg: Package) -> tuple[str, str, str, str]:
    """Identity of a package across layers' copies of its database: type, name, version, arch."""
    return (pkg.type, pkg.name, pkg.version, pkg.arch or "")


def first_always_present(
    key: tuple[str, str, str, str], per_layer: Sequence[set[tuple[str, str, str, str]]]
) -> int | None:
    """The lowest layer from which ``key`` is present in every view up to the top (None if absent at the top)."""
    top = len(per_layer) - 1
    if top < 0 or key not in per_layer[top]:
        return None
    i = top
    while i > 0 and key in per_layer[i - 1]:
        i -= 1
    return i
