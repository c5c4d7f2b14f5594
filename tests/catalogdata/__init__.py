"""Builders of real cataloger test inputs (rpm databases, Go binaries, jars), run at test time."""
