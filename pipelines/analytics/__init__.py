"""Per-number analytics, CLI health and dialled numbers: the `analytics` stage's engine."""
