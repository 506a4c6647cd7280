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


class LeaseLost(Gone):
    """Another process took over the run this one was executing (its lease had expired): this
    process writes nothing more for it and stops quietly."""


class LimitReached(CraneError):
    """A run limit refuses a new run (nothing was stored): `name` is the limit's setting,
    `retry_after_s` the seconds until its window (a UTC minute or day) resets."""

    def __init__(self, name: str, limit: int, retry_after_s: int) -> None:
        hours, minutes = divmod(-(-retry_after_s // 60), 60)
        wait = f"{hours} h {minutes} min" if hours else f"{minutes} min"
        if retry_after_s < 60:
            wait = f"{retry_after_s} s"
        per = "a day" if name.endswith("_DAY") else "a minute"
        runs = "run" if limit == 1 else "runs"
        super().__init__(f"usage limit reached: {name} ({limit} {runs} {per}); it resets in {wait}")
        self.name, self.limit, self.retry_after_s = name, limit, retry_after_s
