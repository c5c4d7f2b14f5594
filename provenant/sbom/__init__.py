"""The internal package model and the SBOM encoders (CycloneDX, SPDX, table, JSON)."""
