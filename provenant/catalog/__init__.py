"""Catalogers: one module per ecosystem, each declaring the paths it wants and a parser.

Catalogers never see tarballs or HTTP. The layer scanner hands them the bytes of files that match
their patterns (``parse``, run once per layer and cached), or streams executables past them
(``sniff``); the image-level code then hands them the parsed files visible in the final filesystem
(``assemble``) together with the detected distro.
"""
