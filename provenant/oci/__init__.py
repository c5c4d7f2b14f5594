"""Pydantic models of the OCI and Docker image formats, media types and platforms."""
