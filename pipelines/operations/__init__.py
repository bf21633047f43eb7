"""Running safely: the data directory's lock, per-run folders and retention."""
