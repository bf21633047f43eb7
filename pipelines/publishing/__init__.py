"""Publishing a run atomically: outputs, the warehouse, certificates and signing, history, expiry."""
