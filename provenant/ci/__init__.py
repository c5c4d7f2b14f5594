"""CI glue: what the GitHub Action (``action.yml``) runs, as typed, tested Python rather than shell."""
