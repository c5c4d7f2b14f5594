"""``provenant sbom --attest``: each platform's SBOM as a signed in-toto attestation about that platform."""

from __future__ import annotations

import json

from provenant.attest.keys import PrivateKey
from provenant.attest.push import Mode, PushResult, attest_image
from provenant.digest import Digest
from provenant.errors import UsageError
from provenant.sbom.formats import encode
from provenant.sbom.result import SbomResult
from provenant.session import Session

#: SBOM format → the cosign predicate-type shorthand it is attested as.
ATTESTABLE = {"cyclonedx-json": "cyclonedx", "spdx-json": "spdx"}


def attest_sbom(
    session: Session, target: str, result: SbomResult, fmt: str, key: PrivateKey, *, mode: Mode = "tag"
) -> list[PushResult]:
    """Sign one ``fmt`` document per platform image of ``result`` and push it with that manifest as subject.

    The subject is the platform manifest digest (what a verifier of that platform checks), never the index.
    """
    if fmt not in ATTESTABLE:
        raise UsageError(f"--attest needs a JSON SBOM format ({', '.join(ATTESTABLE)}), not {fmt!r}")
    opened = session.open(target)
    if opened.reference is None:
        raise UsageError(
            f"{target} is not a registry reference; SBOM attestations are pushed to a registry",
            hint="push the image first, then run sbom --attest on registry/repository:tag",
        )
    pushed = []
    for img in result.images:
        (doc,) = encode(result.model_copy(update={"images": [img]}), fmt, merge=False)
        subject = opened.reference.with_digest(Digest.parse(img.manifest_digest))
        done = attest_image(session, str(subject), json.loads(doc.text), ATTESTABLE[fmt], key, mode)
        # attested by digest, so attest_image cannot know the platform: name it for the output
        items = [i.model_copy(update={"platform": img.platform}) for i in done.items]
        pushed.append(done.model_copy(update={"items": items}))
    return pushed
