"""``sbom --validate``: check an encoded document against its format's schema before it is written.

Off by default: the encoders build documents valid by construction (the tests validate every format
with these same validators), and validating costs more than encoding. The text is what is checked,
exactly as it will be written, so documents served from the document cache are checked the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from provenant.errors import ProvenantError


def _cyclonedx(fmt: str) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
        from cyclonedx.validation.xml import XmlValidator

        validator = JsonStrictValidator if fmt == "json" else XmlValidator
        error = validator(SchemaVersion.V1_6).validate_str(text)
        return None if error is None else str(error)

    return check


def _spdx(text: str) -> str | None:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    try:
        doc = JsonLikeDictParser().parse(json.loads(text))  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        return "; ".join(exc.get_messages())  # type: ignore[no-untyped-call]
    messages = validate_full_spdx_document(doc)
    return "; ".join(m.validation_message for m in messages) if messages else None


def _json(text: str) -> str | None:
    from pydantic import ValidationError

    from provenant.sbom.result import SbomResult

    try:
        SbomResult.model_validate_json(text)
    except ValidationError as exc:
        return str(exc)
    return None


#: Format → check returning the first problems found, or None. The table is plain text: nothing to check.
CHECKS: dict[str, Callable[[str], str | None]] = {
    "cyclonedx-json": _cyclonedx("json"),
    "cyclonedx-xml": _cyclonedx("xml"),
    "spdx-json": _spdx,
    "json": _json,
    "table": lambda text: None,
}


def validate_document(fmt: str, text: str) -> None:
    """Raise a one-line ProvenantError when ``text`` is not a valid ``fmt`` document."""
    problem = CHECKS[fmt](text)
    if problem is not None:
        one_line = " ".join(problem.split())
        raise ProvenantError(
            f"internal error: the {fmt} document does not validate: {one_line[:300]}",
            hint="please report it with the image reference; without --validate the document is written as is",
        )
