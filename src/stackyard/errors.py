"""The error tree, shared by the server and the SDKs.

    StackyardError
     └── APIError                 an answer from a server (status, error_code, error_message, errors)
          ├── BadRequest          400  malformed request (bad JSON, bad query)
          ├── Unauthorized        401  no credential, or a dead one
          ├── Forbidden           403  a valid caller without the permission
          ├── NotFound            404  (422 for most CMA objects, as Contentstack answers)
          ├── Conflict            409  concurrent or duplicate write
          ├── PreconditionFailed  412  missing or unknown stack api_key
          ├── PayloadTooLarge     413
          ├── UnprocessableEntity 422  validation failed; `errors` says which field
          ├── RateLimited         429  `retry_after` seconds
          ├── ServerError         5xx  (503, error_code 503: a query ran past query_timeout_ms)
          └── NotSupported        501  an API (or part of one) this server does not serve yet

The server raises these in services and renders them in one handler; the SDK turns every non-2xx
response into the same classes with `error_from_response`. Numeric `error_code`s are Contentstack's
where its clients look at them, and live in `CODES`.
"""

from __future__ import annotations

from typing import Any

# error_code -> (HTTP status, default message). One table for the whole server.
CODES: dict[int, tuple[int, str]] = {
    100: (400, "Bad request."),
    101: (400, "The request body is not valid JSON."),
    102: (400, "The query is not valid."),
    104: (422, "Looks like your email or password is invalid."),
    105: (401, "You're not allowed in here unless you're logged in."),
    106: (401, "The management token is not valid or has expired."),
    107: (401, "Delivery tokens cannot be used with the management API."),
    108: (422, "Too many failed login attempts. Your account is locked; try again later."),
    109: (412, "The api_key is not valid."),
    110: (412, "This request needs an api_key header."),
    111: (422, "The token is not valid or has expired."),
    112: (422, "The account is not activated yet."),
    113: (413, "The request body is too large."),
    114: (415, "The request body could not be read."),
    115: (405, "Method not allowed."),
    116: (404, "The requested URL was not found."),
    118: (422, "The Content Type was not found. Please try again."),
    119: (422, "Entry creation failed. Please enter valid data."),
    120: (422, "The request could not be processed. Please check the data and try again."),
    121: (422, "Content Type creation failed. Please enter valid data."),
    141: (422, "The requested object doesn't exist."),
    145: (404, "Asset was not found."),
    161: (403, "You don't have the permission to perform this action."),
    162: (409, "The object was changed by another request. Fetch it and try again."),
    163: (409, "An object with this identifier already exists."),
    164: (422, "This object is in use and cannot be deleted."),
    294: (422, "Please login using the Two-Factor verification Token"),
    295: (422, "Invalid verification code"),
    429: (429, "Too many requests"),
    500: (500, "Something went wrong on the server. The error was logged."),
    # Ours, not Contentstack's: numbered after the status, like 429 and 500.
    408: (408, "The request did not arrive in time."),
    414: (414, "The request URL is too long."),
    431: (431, "The request headers are too large."),
    413: (413, "The answer would be larger than the server sends at once; ask for a lower limit."),
    501: (501, "This is not supported by this server yet."),
    503: (503, "The query took longer than the server allows; narrow it and try again."),
}


class StackyardError(Exception):
    """Base of every error Stackyard raises on purpose."""


class APIError(StackyardError):
    status = 400
    default_code = 100

    def __init__(
        self,
        message: str | None = None,
        *,
        error_code: int | None = None,
        errors: dict[str, list[str]] | list[Any] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.error_code = error_code if error_code is not None else self.default_code
        code_status, code_message = CODES.get(self.error_code, (self.status, "Error."))
        self.status = status if status is not None else code_status
        self.error_message = message if message is not None else code_message
        self.errors: dict[str, list[str]] | list[Any] = errors if errors is not None else {}
        self.extra = extra or {}
        super().__init__(self.error_message)

    def body(self) -> dict[str, Any]:
        """The Contentstack error object: {"error_message", "error_code", "errors"}."""
        out: dict[str, Any] = {
            "error_message": self.error_message,
            "error_code": self.error_code,
            "errors": self.errors,
        }
        out.update(self.extra)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.error_code}, {self.error_message!r})"


class BadRequest(APIError):
    status = 400
    default_code = 100


class Unauthorized(APIError):
    status = 401
    default_code = 105


class Forbidden(APIError):
    status = 403
    default_code = 161


class NotFound(APIError):
    status = 404
    default_code = 141


class Conflict(APIError):
    status = 409
    default_code = 163


class PreconditionFailed(APIError):
    status = 412
    default_code = 109


class PayloadTooLarge(APIError):
    status = 413
    default_code = 113


class UnprocessableEntity(APIError):
    status = 422
    default_code = 120


class RateLimited(APIError):
    status = 429
    default_code = 429

    def __init__(self, message: str | None = None, *, retry_after: float = 1.0, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(APIError):
    status = 500
    default_code = 500


class NotSupported(APIError):
    """A request for an API or feature that has not landed yet (e.g. content delivery)."""

    status = 501
    default_code = 501


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    422: UnprocessableEntity,
    429: RateLimited,
}


def class_for_status(status: int, error_code: int | None = None) -> type[APIError]:
    """Pick the exception class for an answer. A 422 carrying a not-found code is a NotFound."""
    if status == 422 and error_code in (118, 141, 145):
        return NotFound
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


def not_found(what: str = "object", code: int = 141) -> NotFound:
    """The not-found error Contentstack clients expect (422/141 unless the code says otherwise)."""
    message = CODES[code][1] if what == "object" else f"The {what} was not found. Please try again."
    return NotFound(message, error_code=code, errors={"uid": ["is not valid."]})


def invalid(errors: dict[str, list[str]], message: str | None = None, code: int = 120) -> UnprocessableEntity:
    """A validation failure naming the fields at fault."""
    return UnprocessableEntity(message, error_code=code, errors=errors)
