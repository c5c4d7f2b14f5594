"""Where images come from: registries, OCI layout directories and tarballs, behind one protocol."""
