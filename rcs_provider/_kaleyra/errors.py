"""The Kaleyra client's errors: one root, :class:`KaleyraError`, and the subtree under it.
Which error a response becomes is :mod:`.statuses`' business; this module depends on nothing.

Every error reads ``Unable to <action>: <why>. <what to do>``. Messages never carry the api-key
or a full phone number: whoever builds an error scrubs server text and the action (the client
masks phones; :func:`~rcs_provider._kaleyra.statuses.error_from_response` redacts digits and
removes secrets). Hints name settings by their ``kaleyra:`` keys and say nothing of how they
are set (that is the caller's business).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "MAY_HAVE_REGISTERED_HINT",
    "REJECTED_KEY_HINT",
    "UNCONFIRMED_REGISTRATION_HINT",
    "AlreadyRegisteredError",
    "AuthenticationError",
    "ConfigurationError",
    "InvalidRequestError",
    "KaleyraError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "UnparseableResponseError",
]

#: Hints whose next step depends on the tool driving the client (which may reword them).
REJECTED_KEY_HINT = "Set kaleyra:apiKey to the account's api-key."
MAY_HAVE_REGISTERED_HINT = (
    "The registration may have reached Kaleyra; check the agent's tester list before "
    "registering again."
)
UNCONFIRMED_REGISTRATION_HINT = (
    "The tester may or may not be registered; check the agent's testers in the Kaleyra "
    "console before registering again."
)


class KaleyraError(Exception):
    """The root of the client's errors: a Kaleyra API call failed, or could not be made.

    Attributes: ``status`` (HTTP status or ``None``), ``code`` (Kaleyra code such as
    ``"RCS904"``), ``message`` (Kaleyra's message, redacted), ``method``, ``path`` (no
    query), ``request_id``, ``retry_after`` (seconds), ``action`` and ``attempts``;
    ``in_body`` when Kaleyra reported the error inside a success (2xx) answer, and then
    ``status_meant``, the status its code stands for (``None``: a code of no known meaning).
    """

    def __init__(
        self,
        why: str,
        *,
        action: str,
        hint: str = "",
        status: int | None = None,
        code: str | None = None,
        message: str = "",
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
        in_body: bool = False,
        status_meant: int | None = None,
    ) -> None:
        self.action = action
        self.why = why.rstrip(". ")
        self.hint = hint
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts
        self.in_body = in_body
        self.status_meant = status_meant
        super().__init__(self._text())

    @property
    def effective_status(self) -> int | None:
        """The status whose meaning the error carries: ``status_meant`` for an error reported
        inside a success answer, else the HTTP status. Decisions (retry, adopt, fall back)
        read this one."""
        return self.status_meant if self.in_body else self.status

    def _text(self) -> str:
        text = f"Unable to {self.action}: {self.why}."
        return f"{text} {self.hint}" if self.hint else text

    def __str__(self) -> str:
        return str(self.args[0])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"method={self.method!r}, path={self.path!r}, request_id={self.request_id!r}, "
            f"message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[KaleyraError], state: dict[str, Any]) -> KaleyraError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    err.args = (err._text(),)
    return err


class ConfigurationError(KaleyraError, ValueError):
    """A client setting is invalid. ``problems`` lists each as (config key, what is wrong);
    ``key`` is the first key (e.g. ``kaleyra:baseUrl``)."""

    def __init__(self, message: str, *, key: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        self.key = key
        self.problems = list(problems) or [(key, message)]
        super().__init__(message, action="configure the Kaleyra client")
        self.why = message
        self.args = (message,)

    @classmethod
    def of(cls, problems: Sequence[tuple[str, str]]) -> ConfigurationError:
        """One error listing ``problems``, as ``<key>: <what is wrong>; ...``."""
        text = "; ".join(f"{key}: {message}" for key, message in problems)
        return cls(text, key=problems[0][0], problems=problems)

    def _text(self) -> str:
        return self.why


class AuthenticationError(KaleyraError):
    """401/403: the api-key is missing, wrong, or lacks permission."""


class InvalidRequestError(KaleyraError):
    """400 and other non-retryable 4xx: Kaleyra rejected the request as sent."""


class AlreadyRegisteredError(InvalidRequestError):
    """The number is already a tester of the agent (nothing was sent to the phone): any
    answer in :data:`~rcs_provider._kaleyra.conflicts.ALREADY_REGISTERED`. ``existing_id`` is the
    existing registration's id when the answer carried one."""

    existing_id: str | None = None


class RateLimitedError(KaleyraError):
    """429: throttled, typically the per-agent daily invitation quota; see ``retry_after``."""


class ServerError(KaleyraError):
    """5xx: Kaleyra failed; retrying later may succeed."""


class TransportError(KaleyraError):
    """No usable answer: connection failure, timeout, oversized or too slow response body."""


class UnparseableResponseError(KaleyraError):
    """Kaleyra answered, but with a body or status this client cannot interpret."""
