"""Phone numbers: the E.164 engine, its libphonenumber port and metadata analyses, masking."""
