"""The error a wrong deployment setting raises at synth (stacks.config re-exports it)."""


class ConfigurationError(ValueError):
    """A context value is wrong; synth stops with this message."""
