"""The exceptions the API client raises, built from the ``{error, message}`` envelope and the status code."""

from __future__ import annotations

import json
import re
from typing import Any

from duvo_tui.text import clean_line

__all__ = [
    "ApiError",
    "AuthError",
    "ConflictError",
    "DuvoError",
    "ForbiddenError",
    "InvalidInputError",
    "LocalFileError",
    "NetworkError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "TooLargeError",
    "TransientError",
    "UnexpectedResponseError",
    "UploadUrlExpired",
    "ValidationError",
    "error_from_response",
    "parse_retry_after",
]


class DuvoError(Exception):
    """Anything the Duvo API or the way to it refused or failed. ``str()`` is one line for a person."""

    transient = False

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        prefix = f"{self.status} " if self.status else ""
        code = f"{self.code}: " if self.code else ""
        return f"{prefix}{code}{self.message}"


class ApiError(DuvoError):
    """A 4xx the server answered that no more specific class covers."""


class AuthError(ApiError):
    """401: the key is missing, unknown or revoked."""


class ForbiddenError(ApiError):
    """403: the key may not touch this resource."""


class UploadUrlExpired(ForbiddenError):
    """403 from storage for a presigned upload URL that has expired: ask for a new one."""


class NotFoundError(ApiError):
    """404: no such run, request or sandbox."""


class ConflictError(ApiError):
    """409: the resource is not in a state that allows this (e.g. the run is no longer waiting)."""


class TooLargeError(ApiError):
    """413: the file is over the direct-upload limit."""


class ValidationError(ApiError):
    """400 or 422: the request's parameters were refused."""


class RateLimitedError(ApiError):
    """429: too many requests; nothing more may be sent before ``retry_after`` seconds."""

    transient = True

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429, code: str | None = None) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class TransientError(DuvoError):
    """A failure that may go away on retry."""

    transient = True


class ServerError(TransientError):
    """5xx from the server or a proxy in front of it."""


class NetworkError(TransientError):
    """No answer: connection refused or reset, DNS, timeout."""


class UnexpectedResponseError(DuvoError):
    """A success status whose body is not what the endpoint sends (not JSON, or missing its object)."""


class LocalFileError(DuvoError):
    """A file to upload could not be read, or changed while it was being sent."""


class InvalidInputError(DuvoError):
    """What the caller asked the client to send cannot be sent as it is (e.g. text that is not valid UTF-8).

    Raised before any request, so nothing reached the server and no budget was spent. A usage error:
    the command line exits with status 2. ``field`` names what holds the bad value (e.g. ``message``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)

_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: TooLargeError,
    422: ValidationError,
}

_REASONS = {
    400: "bad request",
    401: "the API key was refused",
    403: "this key has no access to that",
    404: "not found",
    409: "conflict with the current state",
    413: "file too large",
    422: "validation failed",
    429: "rate limited",
    500: "server error",
    502: "upstream unavailable",
    503: "service unavailable",
    504: "gateway timeout",
}


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """``retry-after`` in seconds (delta-seconds form); ``default`` when absent or unreadable."""
    if value is None:
        return default
    try:
        seconds = float(value.strip())
    except ValueError:
        return default
    if seconds != seconds or seconds < 0:
        return default
    return min(seconds, 3600.0)


def _summarise_body(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """(code, message) from an error body; HTML or other text becomes a short plain message."""
    if not body:
        return None, None
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        code = data.get("error")
        message = data.get("message")
        if isinstance(code, dict):  # {"error": {"code": ..., "message": ...}}
            message = message if isinstance(message, str) else code.get("message")
            code = code.get("code") or code.get("type")
        return (
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else None,
        )
    text = body[:4000].decode("utf-8", "replace")
    if "html" in content_type.lower() or text.lstrip().lower().startswith(("<!doctype", "<html")):
        title = _HTML_TITLE.search(text)
        what = f" ({' '.join(title.group(1).split())[:80]})" if title and title.group(1).strip() else ""
        return None, f"the server answered with an HTML page{what} instead of JSON; a proxy or gateway failed?"
    first = " ".join(text.split())[:200]
    return None, first or None


def error_from_response(status: int, body: bytes, headers: dict[str, str] | Any) -> DuvoError:
    """The exception for a non-2xx response. ``headers`` is any case-insensitive mapping."""
    content_type = headers.get("content-type", "") if headers is not None else ""
    code, message = _summarise_body(body, content_type or "")
    message = clean_line(message or code or _REASONS.get(status, f"HTTP {status}"), 300)
    code = clean_line(code, 80) if code else None
    if status == 429:
        retry = parse_retry_after(headers.get("retry-after") if headers is not None else None)
        return RateLimitedError(message, retry_after=retry, code=code)
    if status >= 500:
        return ServerError(message, status=status, code=code)
    cls = _BY_STATUS.get(status, ApiError)
    return cls(message, status=status, code=code)
