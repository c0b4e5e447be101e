"""The error every refused change of state raises."""


class ServiceError(Exception):
    """A change refused by the archive's rules; the message says why."""
