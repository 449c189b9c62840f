"""The console's errors: each carries the HTTP status the API answers with and a reason a
person can act on (the CLI prints the same reason and exits non-zero)."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses; `status` is the HTTP status, `reason` says why."""

    status = 400

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    """The request is well formed but the case's rule or state forbids it now."""

    status = 409


class Unavailable(ServiceError):
    """A service the request needs (Temporal, Kafka) did not answer."""

    status = 503
