"""Errors a VLO sees: one clear line, no personal data, and nothing changed."""


class VcsError(Exception):
    """Bad input or an action out of order; the message says what and why."""


class UnavailableError(VcsError):
    """Temporal or the worker did not answer; nothing was changed and repeating is safe."""


class BrokenRules(VcsError):
    """An action that rules refuse: each reason names its rule's source; nothing was changed.
    The message is the reasons in one line; the console lists each on its own."""

    def __init__(self, lead: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"{lead}: " + "; ".join(reasons))
