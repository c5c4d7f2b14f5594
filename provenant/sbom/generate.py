"""``sbom``: scan every layer once (cached by digest), build each platform's view, catalog, attribute.

Layers shared by several platforms are fetched and scanned once per run; a second run of the same
image fetches no layer blobs at all (every scan comes from the cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from provenant import __version__
from provenant import limits as _limits
from provenant.cache import LayerCache
from provenant.catalog.base import Distro
from provenant.catalog.registry import default_plan
from provenant.errors import ManifestError
from provenant.image import FetchedManifest, ImageReader, PlatformImage
from provenant.inspect import join_history
from provenant.layers.limitkey import scan_limits_key
from provenant.layers.scan import LayerScan, ScanPlan, scan_layer
from provenant.layers.view import ImageView, first_always_present, package_key
from provenant.limits import Limits
from provenant.oci.models import Descriptor
from provenant.oci.platform import PlatformSpec
from provenant.progress import NOOP, Progress, counted
from provenant.sbom.model import IntroducedIn, Location, Package
from provenant.sbom.result import ImageSbom, LayerInfo, SbomResult, ScanIssue, ToolInfo
from provenant.session import Session

DISTRO_CATALOGER = "distro"


@dataclass(frozen=True)
class ImageLayer:
    """One layer of a platform image: its descriptor and its uncompressed digest."""

    desc: Descriptor
    diff_id: str


@dataclass
class LayerScans:
    """Scans by layer digest, and which of them came from the cache."""

    scans: dict[str, LayerScan]
    cached: set[str]


def _layers_of(img: PlatformImage) -> list[ImageLayer]:
    diff_ids = img.config.rootfs.diff_ids
    if len(diff_ids) != len(img.manifest.layers):
        raise ManifestError(
            f"image {img.manifest_digest}: manifest lists {len(img.manifest.layers)} layers but the config "
            f"lists {len(diff_ids)} diff_ids",
            hint="the image is malformed; rebuild or re-push it",
        )
    return [ImageLayer(d, diff_id) for d, diff_id in zip(img.manifest.layers, diff_ids, strict=True)]


def scan_layers(
    reader: ImageReader,
    layers: Sequence[Descriptor],
    diff_ids: dict[str, str],
    plan: ScanPlan,
    cache: LayerCache,
    *,
    workers: int = 4,
    limits: Limits | None = None,
    progress: Progress = NOOP,
) -> LayerScans:
    """Scan each distinct layer once: from the cache when possible, else fetched and scanned in parallel.

    The cache key is the scanner version plus the scan-affecting limits (a scan made under other
    limits may hold other limit issues); a cached scan counts only if its diff_id is the config's.
    """
    lim = limits or _limits.current()
    scanner = f"{plan.version}-{scan_limits_key(lim)}"
    scans: dict[str, LayerScan] = {}
    cached: set[str] = set()
    todo: list[Descriptor] = []
    for desc in {d.digest: d for d in layers}.values():
        hit = cache.get(scanner, desc.digest)
        # The entry is keyed by the compressed digest only: a config naming other uncompressed bytes
        # for the same blob (a forged or broken image) must not be served a scan of them.
        if hit is not None and hit.diff_id == diff_ids[desc.digest]:
            scans[desc.digest] = hit
            cached.add(desc.digest)
            progress.layer_cached(desc.digest)
        else:
            todo.append(desc)

    def one(desc: Descriptor) -> LayerScan:
        with reader.stream_blob(desc, f"layer {desc.digest}") as chunks:
            counting = counted(chunks, desc.digest, progress)
            scan = scan_layer(counting, digest=desc.digest, diff_id=diff_ids[desc.digest], plan=plan, limits=lim)
        cache.put(scanner, scan)
        progress.layer_scanned(desc.digest)
        return scan

    # Largest first, so the longest scan starts earliest.
    todo.sort(key=lambda d: d.size, reverse=True)
    if len(todo) <= 1 or workers <= 1:
        results = [one(d) for d in todo]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            results = list(pool.map(one, todo))
    for scan in results:
        scans[scan.digest] = scan
    return LayerScans(scans, cached)


def catalog_image(
    img: PlatformImage, layers: list[ImageLayer], scans: list[LayerScan], view: ImageView, plan: ScanPlan
) -> tuple[Distro | None, list[Package], list[ScanIssue]]:
    """Packages of one image's final filesystem, with locations and the layer that introduced each."""
    from provenant.catalog.binary import drop_os_owned
    from provenant.catalog.distro import detect_distro

    created_by = _created_by(img, len(layers))

    def location(path: str, layer: int) -> Location:
        return Location(
            path=path, layer_index=layer, layer_digest=layers[layer].desc.digest, diff_id=layers[layer].diff_id
        )

    distro_files = view.visible_files(DISTRO_CATALOGER)
    distro_cat = next((c for c in plan.catalogers if c.name == DISTRO_CATALOGER), None)
    if distro_cat is not None:
        distro_files += view.symlinked_files(DISTRO_CATALOGER, distro_cat.matches)
    distro = detect_distro(distro_files)

    merged: dict[str, Package] = {}
    located: dict[str, set[tuple[str, int]]] = {}  # (path, layer) of each merged package's locations
    for cat in plan.catalogers:
        if cat.name == DISTRO_CATALOGER:
            continue
        files = view.visible_files(cat.name) + view.symlinked_files(cat.name, cat.matches)
        if not files:
            continue
        per_layer = view.keys_per_layer(cat.name)
        # Where each package key is found, built once: linear in (files x their packages).
        where: dict[tuple[str, str, str, str], list[tuple[str, int]]] = {}
        for f in files:
            for k in dict.fromkeys(package_key(p) for p in f.parsed.packages):
                where.setdefault(k, []).append((f.path, f.layer_index))
        parsed_ids = {id(p) for f in files for p in f.parsed.packages}
        assembled_all = cat.assemble(files, distro)
        seen_objects: set[int] = set()
        for assembled in assembled_all:
            # Hardlinks share one parse: the same package object again has the same key, locations
            # and layer, so it adds nothing (ids are stable while assembled_all holds the objects).
            if id(assembled) in seen_objects:
                continue
            seen_objects.add(id(assembled))
            # A parsed package may be shared with other platforms' views (same cached layer): copy it
            # before setting fields below. One the cataloger made afresh in assemble is this view's own.
            pkg = assembled.model_copy() if id(assembled) in parsed_ids else assembled
            key = package_key(pkg)
            pkg.found_by = cat.name
            pkg.locations = [location(path, layer) for path, layer in where.get(key, [])]
            first = first_always_present(key, per_layer)
            if first is not None:
                pkg.introduced_in = IntroducedIn(
                    layer_index=first,
                    layer_digest=layers[first].desc.digest,
                    diff_id=layers[first].diff_id,
                    created_by=created_by[first],
                )
            existing = merged.get(pkg.key())
            if existing is None:
                merged[pkg.key()] = pkg
                located[pkg.key()] = {(loc.path, loc.layer_index) for loc in pkg.locations}
                continue
            known = located[pkg.key()]
            for loc in pkg.locations:
                if (loc.path, loc.layer_index) not in known:
                    known.add((loc.path, loc.layer_index))
                    existing.locations.append(loc)
            # Merged duplicates keep the earliest layer that introduced any of them.
            if pkg.introduced_in and (
                existing.introduced_in is None or pkg.introduced_in.layer_index < existing.introduced_in.layer_index
            ):
                existing.introduced_in = pkg.introduced_in
    issues = [issue.model_copy(update={"layer_index": i}) for i, scan in enumerate(scans) for issue in scan.issues]
    packages = sorted(merged.values(), key=Package.order)
    # A runtime the binary classifiers found in a file an OS package installed is that package's.
    return distro, drop_os_owned(packages), issues


def _created_by(img: PlatformImage, n_layers: int) -> list[str | None]:
    rows = [h for h in join_history(img.config, img.manifest) if not h.empty_layer]
    out: list[str | None] = [h.created_by or None for h in rows[:n_layers]]
    return out + [None] * (n_layers - len(out))


@dataclass
class ImageAnalysis:
    """One platform image with its layers, their scans, the final filesystem view and its SBOM."""

    image: PlatformImage
    layers: list[ImageLayer]
    scans: list[LayerScan]
    view: ImageView
    sbom: ImageSbom

    @property
    def uncompressed_size(self) -> int:
        """Bytes of all layers uncompressed (what the image takes unpacked, before whiteouts)."""
        return sum(scan.uncompressed_size for scan in self.scans)


@dataclass
class Analysis:
    """Everything one pass over an image yields; ``sbom``, ``policy``, ``compare`` and ``diff`` build on it."""

    target: str
    source: str
    top: FetchedManifest
    reader: ImageReader
    images: list[ImageAnalysis]
    cached: set[str]

    def sbom_result(self) -> SbomResult:
        """The ``provenant sbom`` result."""
        return SbomResult(
            reference=self.target,
            source=self.source,
            digest=str(self.top.digest),
            media_type=self.top.media_type,
            tool=ToolInfo(version=__version__),
            images=[a.sbom for a in self.images],
        )


def analyze(
    session: Session,
    target: str,
    platforms: list[PlatformSpec] | None = None,
    *,
    cache: LayerCache | None = None,
    plan: ScanPlan | None = None,
    workers: int = 4,
) -> Analysis:
    """Open ``target``, scan every layer of the selected platforms once and catalog each platform image."""
    progress = session.progress
    opened = session.open(target)
    reader = session.reader(opened)
    top = reader.resolve()
    progress.resolved(target, str(top.digest), top.media_type)
    images = reader.load_images(top, platforms)
    if opened.reference is not None:
        name, tag = opened.reference.name, opened.reference.tag
    else:
        name, tag = reader.source.describe(), None
    return analyze_loaded(
        reader,
        top,
        images,
        target=target,
        name=name,
        tag=tag,
        cache=cache,
        plan=plan,
        workers=workers,
        progress=progress,
    )


def analyze_loaded(
    reader: ImageReader,
    top: FetchedManifest,
    images: list[PlatformImage],
    *,
    target: str,
    name: str,
    tag: str | None,
    cache: LayerCache | None = None,
    plan: ScanPlan | None = None,
    workers: int = 4,
    progress: Progress = NOOP,
) -> Analysis:
    """:func:`analyze` of an image already resolved and loaded (``fleet scan`` resolves first, then scans).

    ``name`` and ``tag`` are what the SBOMs name the image by (the reference's, or the layout's description).
    """
    plan = plan or default_plan()
    cache = cache or LayerCache(enabled=False)
    per_image = [_layers_of(img) for img in images]
    descs = [layer.desc for layers in per_image for layer in layers]
    progress.planned(
        {
            str(img.platform): [layer.desc.digest for layer in layers]
            for img, layers in zip(images, per_image, strict=True)
        },
        {d.digest: d.size for d in descs},
    )
    diff_ids = {layer.desc.digest: layer.diff_id for layers in per_image for layer in layers}
    try:
        result = scan_layers(reader, descs, diff_ids, plan, cache, workers=workers, progress=progress)
    finally:
        # Catalogers and encoders run next and print nothing; a live display must be gone before output.
        progress.finished()
    out = []
    for img, layers in zip(images, per_image, strict=True):
        scans = [result.scans[layer.desc.digest] for layer in layers]
        view = ImageView(scans)
        distro, packages, issues = catalog_image(img, layers, scans, view, plan)
        created_by = _created_by(img, len(layers))
        sbom = ImageSbom(
            name=name,
            tag=tag,
            platform=str(img.platform),
            manifest_digest=str(img.manifest_digest),
            index_digest=str(top.digest) if top.is_index else None,
            config_digest=img.manifest.config.digest,
            created=img.config.created,
            distro=distro,
            layers=[
                LayerInfo(
                    index=i,
                    digest=layer.desc.digest,
                    diff_id=layer.diff_id,
                    media_type=layer.desc.media_type,
                    size=layer.desc.size,
                    uncompressed_size=scan.uncompressed_size,
                    file_count=scan.file_count,
                    created_by=created_by[i],
                    from_cache=layer.desc.digest in result.cached,
                )
                for i, (layer, scan) in enumerate(zip(layers, scans, strict=True))
            ],
            packages=packages,
            issues=issues,
        )
        out.append(ImageAnalysis(img, layers, scans, view, sbom))
    return Analysis(target, reader.source.describe(), top, reader, out, result.cached)


def generate_sbom(
    session: Session,
    target: str,
    platforms: list[PlatformSpec] | None = None,
    *,
    cache: LayerCache | None = None,
    plan: ScanPlan | None = None,
    workers: int = 4,
) -> SbomResult:
    """Library entry point of ``provenant sbom``: every selected platform of ``target``."""
    return analyze(session, target, platforms, cache=cache, plan=plan, workers=workers).sbom_result()
