"""Registries: formats, entries, stored snapshots, the US ingest, versions and ledger, freshness, unusable entries."""
