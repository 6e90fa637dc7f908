"""Evidence: the chain of custody of a case, its signed evidence package, and checking one offline."""
