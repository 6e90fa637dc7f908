"""Existence by a day: each day's sealed cases and messages under one Merkle root, timestamped (docs/format.md §14)."""
