"""Triage: the one filter, search, tag and CSV implementation shared by `list`, the desk and the digest."""
