"""Errors a VLO sees: one clear line, no personal data, and nothing changed."""


class VcsError(Exception):
    """Bad input or an action out of order; the message says what and why."""


class UnavailableError(VcsError):
    """Temporal or the worker did not answer; nothing was changed and repeating is safe."""
