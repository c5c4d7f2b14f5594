"""Streaming layer reading: decompression, a fast tar header walk, whiteouts and the filesystem view."""
