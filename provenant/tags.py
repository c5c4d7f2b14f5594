"""``tags``: the tags of a repository."""

from __future__ import annotations

from pydantic import BaseModel

from provenant.reference import parse_reference
from provenant.session import Session
from provenant.sources.registry import RegistrySource


class TagList(BaseModel):
    """The tags of one repository, in the registry's order."""

    repository: str
    tags: list[str]


def list_tags(session: Session, repository: str) -> TagList:
    """All tags of ``repository`` (a reference; any tag or digest in it is ignored)."""
    ref = parse_reference(repository)
    source = RegistrySource(ref, session.client)
    return TagList(repository=ref.name, tags=source.list_tags())
