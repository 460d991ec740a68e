"""Domain errors that each face (API, Reflex state) maps once."""


class DomainError(Exception):
    """Base: the message is a sentence meant for people; `code` is a stable name for clients."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code or type(self).__name__.lower()


class NotFound(DomainError):
    """The thing does not exist, or the actor may not know it exists."""


class Forbidden(DomainError):
    """The actor may see the thing but not do this to it."""


class Invalid(DomainError):
    """The input was refused; nothing was changed."""


class Unauthenticated(DomainError):
    """No valid session."""


class TooManyAttempts(DomainError):
    """Sign-in is slowed down after repeated failures."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, code="too_many_attempts")
        self.retry_after = retry_after


class LimitReached(DomainError):
    """A person's budget refuses the request before any provider is called; nothing was written.

    `code` names the limit; `retry_after` is the seconds until it resets, when that is known.
    """

    def __init__(self, message: str, *, limit: str, retry_after: int | None = None) -> None:
        super().__init__(message, code=limit)
        self.retry_after = retry_after


class NotReady(DomainError):
    """This process cannot serve the request yet (it is starting); nothing was changed."""

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message, code="not_ready")
        self.retry_after = retry_after
