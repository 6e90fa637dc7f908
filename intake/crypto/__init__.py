"""The sealed report format of docs/format.md, on libsodium (PyNaCl)."""
