"""Sealed bundles: the stored cases, still sealed, in one checksummed file (docs/bundle.md)."""
