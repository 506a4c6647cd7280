"""The one error tree. Users see `str(error)`; nothing else of an exception reaches them."""


class CraneError(Exception):
    """Base of every error Crane raises on purpose."""


class InvalidInput(CraneError):
    """The caller's input is wrong: show the message, store nothing."""


class ToolError(CraneError):
    """A step failed for a reason the user should read (division by zero, todo not found)."""


class TransientError(CraneError):
    """A failure worth retrying (a locked database, a timeout)."""


class Unavailable(TransientError):
    """The database cannot be reached (at start-up: exit 2; while serving: 503)."""


class NotFound(CraneError):
    """The thing asked for does not exist for this caller (foreign ids look the same)."""


class Forbidden(CraneError):
    """The caller may not do this."""


class Conflict(CraneError):
    """The thing is not in a state that allows this (approving a run that is not waiting)."""


class Gone(CraneError):
    """What this was working on was deleted meanwhile (its workspace uninstalled Crane): stop."""
