"""The suppression list, sellers, established business relationships and the scrub: the `suppress` stage's engine."""
