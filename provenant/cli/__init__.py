"""The command line: parses arguments, calls the library, prints the result. Nothing else."""
