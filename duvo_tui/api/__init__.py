"""The Duvo API: the async client, its rate budget, the models it returns and the errors it raises."""

from duvo_tui.api.budget import BudgetSnapshot, RateBudget
from duvo_tui.api.client import DIRECT_UPLOAD_LIMIT, DuvoClient
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
