"""`intake-review digest`: the whole picture as static HTML and inline SVG, for the team or (shared) the public."""
