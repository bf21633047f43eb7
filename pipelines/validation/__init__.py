"""Validating frames with the Great Expectations suites of `expectations/`."""
