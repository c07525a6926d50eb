"""What can go wrong talking to Descope or the broker, each with one sentence for the person.

``str(error)`` is always that sentence; secrets and raw bodies never go into it. The tree::

    DashboardError                    base; ``str()`` is a sentence a person can act on
    ├── ConfigurationError            the dashboard has no usable target
    ├── Unreachable                   no HTTP answer: refused, DNS, TLS or timeout
    └── ApiError                      an HTTP error answer (``status``, ``code``)
        ├── BadRequest                400
        ├── Unauthorized              401 (generic)
        │   ├── WrongPassword         401 on a password sign-in
        │   ├── WrongCode             401 E061102 (OTP code)
        │   └── SessionExpired        401 on a refresh-JWT call (expired, logged out)
        ├── NotAllowed                403
        ├── NotFound                  404
        │   └── UnknownUser           404 E062108 / E112102
        ├── AlreadyExists             409 E062107
        ├── Throttled                 429 E130429 (``retry_after`` seconds)
        └── ServerError               5xx or an answer that is not Descope's JSON
            ├── EmailNotConfigured    501 E061201 (the broker has no way to email a code)
            └── EmailNotSent          502 E061202 (the mail server did not take it)
"""

from __future__ import annotations


class DashboardError(Exception):
    """Base of every error the dashboard shows; ``str()`` is the sentence to show."""

    sentence = "Something went wrong."

    def __init__(self, sentence: str | None = None) -> None:
        self.sentence = sentence or type(self).sentence
        super().__init__(self.sentence)


class ConfigurationError(DashboardError):
    """The dashboard cannot tell where to send requests."""

    sentence = "The dashboard is not configured: set DESCOPE_PROJECT_ID or run `outbound up`."


class Unreachable(DashboardError):
    """The broker or Descope did not answer at all."""

    sentence = "The identity service cannot be reached right now; check that it is running."


class ApiError(DashboardError):
    """An HTTP error answer in Descope's ``{errorCode, errorDescription, errorMessage}`` shape."""

    sentence = "The identity service refused the request."

    def __init__(
        self, sentence: str | None = None, *, status: int = 0, code: str = "", detail: str = ""
    ) -> None:
        super().__init__(sentence)
        self.status = status
        self.code = code
        # The server's own description, for logs; may be technical, never shown as the sentence.
        self.detail = detail


class BadRequest(ApiError):
    """The request was not accepted as sent (400)."""

    sentence = "That request was not accepted; check the fields and try again."


class Unauthorized(ApiError):
    """The credentials were refused (401)."""

    sentence = "You are not signed in, or your sign-in is no longer valid."


class WrongPassword(Unauthorized):
    """The password does not match (or, where the service will not say, the login id is unknown)."""

    sentence = "That login id and password do not match an account; check both and try again."


class WrongCode(Unauthorized):
    """The one-time code is wrong or used."""

    sentence = "That code is not right or has already been used; ask for a new one."


class SessionExpired(Unauthorized):
    """The refresh JWT expired or was logged out."""

    sentence = "Your session has ended; please sign in again."


class NotAllowed(ApiError):
    """The caller is known but may not do this (403)."""

    sentence = "You are not allowed to do that."


class NotFound(ApiError):
    """The thing asked for does not exist (404)."""

    sentence = "That was not found."


class UnknownUser(NotFound):
    """No user has this login id."""

    sentence = "No account uses that login id; check it or sign up."


class AlreadyExists(ApiError):
    """The thing to create exists already (409)."""

    sentence = "An account with that login id already exists; sign in instead."


class Throttled(ApiError):
    """Too many attempts; Descope says when to try again (429)."""

    def __init__(self, retry_after: int, *, code: str = "E130429", detail: str = "") -> None:
        self.retry_after = max(1, retry_after)
        unit = "second" if self.retry_after == 1 else "seconds"
        super().__init__(
            f"Too many attempts: try again in {self.retry_after} {unit}.",
            status=429,
            code=code,
            detail=detail,
        )


class ServerError(ApiError):
    """The service failed on its side (5xx) or answered something unreadable."""

    sentence = "The identity service had a problem; try again in a moment."


class EmailNotConfigured(ServerError):
    """The service cannot email codes at all (no mail server, not a demo)."""

    sentence = "This server cannot email sign-in codes yet; sign in with your password."


class EmailNotSent(ServerError):
    """The mail server did not take the code's email; no code was issued."""

    sentence = "The code could not be emailed just now; try again in a moment."
