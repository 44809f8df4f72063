"""The Duvo API: the async client, its rate budget, the models it returns and the errors it raises."""

from typing import TYPE_CHECKING, Any

from duvo_tui.api.errors import (
    ApiError,
    AuthError,
    ConflictError,
    DuvoError,
    ForbiddenError,
    LocalFileError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TooLargeError,
    TransientError,
    UnexpectedResponseError,
    UploadUrlExpired,
    ValidationError,
)

if TYPE_CHECKING:
    from duvo_tui.api.budget import BudgetSnapshot, RateBudget
    from duvo_tui.api.client import DIRECT_UPLOAD_LIMIT, DuvoClient

# The client (and httpx) load on first use, so importing the models stays cheap (the dashboard's first frame).
_LAZY = {
    "BudgetSnapshot": "duvo_tui.api.budget",
    "RateBudget": "duvo_tui.api.budget",
    "DIRECT_UPLOAD_LIMIT": "duvo_tui.api.client",
    "DuvoClient": "duvo_tui.api.client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "DIRECT_UPLOAD_LIMIT",
    "ApiError",
    "AuthError",
    "BudgetSnapshot",
    "ConflictError",
    "DuvoClient",
    "DuvoError",
    "ForbiddenError",
    "LocalFileError",
    "NetworkError",
    "NotFoundError",
    "RateBudget",
    "RateLimitedError",
    "ServerError",
    "TooLargeError",
    "TransientError",
    "UnexpectedResponseError",
    "UploadUrlExpired",
    "ValidationError",
]
