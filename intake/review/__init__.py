"""intake-review: the reviewer's offline tool. It must never import Flask or any web code."""
