"""A copy of a case safe to publish: faces hidden, no metadata, words redacted (docs/review.md "Publishing")."""
