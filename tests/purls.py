"""Compare package URLs as parsed values: encodings differ between packageurl-python releases (``+`` vs ``%2B``)."""

from __future__ import annotations

from typing import Any

from packageurl import PackageURL


def purl_parts(purl: str) -> dict[str, Any]:
    """The purl's components, decoded."""
    return dict(PackageURL.from_string(purl).to_dict())


def assert_same_purl(got: str | None, expected: str) -> None:
    """``got`` names the same package as ``expected`` (a hand-written purl, possibly not canonically encoded)."""
    assert got is not None
    assert purl_parts(got) == purl_parts(expected), f"{got} != {expected}"
