"""Reviewer keys: the signed keyring, key files, rotation, rewrap, recovery and the audit log of admin actions."""
