"""Errors that tell the operator which file, row or key is wrong and what to do."""


class ScrublineError(Exception):
    """Base class for every error Scrubline raises on purpose."""


class ConfigError(ScrublineError):
    """`scrubline.yaml` is missing, malformed or names files that do not exist."""


class InputFileError(ScrublineError):
    """An input file cannot be used: unreadable, empty, or missing a required column."""


class RegistryError(ScrublineError):
    """A suppression registry cannot be trusted, so nothing it covers may be published."""
