"""Great Expectations suites, one JSON file per validated table (package data, read by `pipelines.validation`)."""
