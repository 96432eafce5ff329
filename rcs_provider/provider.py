"""TesterProvider: the dynamic provider behind :class:`~rcs_provider.resource.RcsTester`.

It translates Pulumi property dicts to :class:`~rcs_provider.client.KaleyraClient` calls and
back. No HTTP here. Domain rules (DESIGN.md): create adopts an existing registration before it
registers, so a retry or a crash never sends a second invitation; delete cannot deregister
(Kaleyra has no such API) and says so loudly; phone numbers leave this module masked only.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .adoption import deterministic_id
from .client import KaleyraClient, Registration
from .errors import ConfigurationError, KaleyraError
from .lookup import Found, ProviderError, TesterLookup
from .phone import mask_phone, normalize_phone
from .roster import Roster
from .settings import (
    BUDGET_KEY,
    DEFAULT_NEW_TESTER_BUDGET,
    new_tester_budget_from_config,
    settings_from_config,
)

__all__ = ["TRACEBACKS_ENV", "ProviderError", "TesterProvider", "normalize_agent", "validate_label"]

log = logging.getLogger(__name__)
_Op = TypeVar("_Op", bound=Callable[..., Any])
#: Set to show full Python tracebacks in provider errors (for debugging the provider itself).
TRACEBACKS_ENV = "RCS_TESTERS_TRACEBACKS"

#: Process-wide knowledge shared by every provider instance of this engine operation.
ROSTER = Roster()

_AGENT = re.compile(r"[0-9]{1,20}")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SEPARATORS = re.compile(r"[-._]")
_DIGITS_ACROSS_SEPARATORS = re.compile(r"[0-9]{7,}")
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN


def normalize_agent(value: object) -> str:
    """Agent number as a digit string; YAML integers are accepted, floats and booleans not."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be a string of digits, got {type(value).__name__}")
    text = str(value).strip()
    if not _AGENT.fullmatch(text):
        raise ValueError("must be the agent's service code: digits only, e.g. 48900")
    return text


def validate_label(value: object) -> str:
    """A label names a tester in logical names and logs: 1-64 of ``A-Z a-z 0-9 . _ -``."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    if not _LABEL.fullmatch(value):
        raise ValueError(
            "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (no spaces, newlines or control characters)"
        )
    if _DIGITS_ACROSS_SEPARATORS.search(_SEPARATORS.sub("", value)):
        raise ValueError(
            "must not contain 7 or more digits in a row, even split by '-', '.' or '_' "
            "(it could be a phone number, and labels appear in names and logs)"
        )
    return value


def _explained(operation: _Op) -> _Op:
    """Re-raise our own errors without their chain: the engine shows the provider's traceback
    text, and ``Unable to <action>: <why>. <what to do>`` is all a person needs there."""

    @functools.wraps(operation)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except (KaleyraError, ConfigurationError, ProviderError) as err:
            raise err from None

    return cast(_Op, wrapper)


def _warn(message: str) -> None:
    """Show a warning in the engine's output (the provider's stderr is shown to the user)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


class TesterProvider(ResourceProvider):
    """Registers a phone number as a tester of a Kaleyra RCS agent.

    Inputs: ``agent_no``, ``phoneno`` (secret), ``label``. Outputs add ``registration_id``,
    ``status``, ``override_dcs_check``, ``phone_masked`` and ``adopted``.
    Configured from the ``kaleyra:`` stack config in :meth:`configure`; holds no other state.
    """

    serialize_as_secret_always = False

    _client: KaleyraClient | None = None
    _budget: int = DEFAULT_NEW_TESTER_BUDGET
    _lookup_mode: str = "auto"
    _retry_pause: float = 0.0

    # -- configuration -------------------------------------------------------------------------

    @_explained
    def configure(self, req: ConfigureRequest) -> None:
        """Build the client from ``kaleyra:*`` config (errors name the key to set)."""
        if not os.environ.get(TRACEBACKS_ENV):
            # This process serves only dynamic providers; the engine prints the traceback
            # text of a failed call, and our messages are written to stand alone.
            sys.tracebacklimit = 0
        settings = settings_from_config(req.config.get)
        self._client = KaleyraClient(settings)
        self._budget = new_tester_budget_from_config(req.config.get)
        self._lookup_mode = settings.lookup
        self._retry_pause = min(settings.backoff_max, 4 * settings.backoff_factor)

    @property
    def client(self) -> KaleyraClient:
        if self._client is None:
            raise RuntimeError("TesterProvider used before configure(); this is a bug")
        return self._client

    @property
    def lookup(self) -> TesterLookup:
        """Finding and adopting registrations under ``kaleyra:lookup`` (see ``lookup``)."""
        return TesterLookup(
            self.client,
            ROSTER,
            mode=self._lookup_mode,
            warn=_warn,
            retry_pause=self._retry_pause,
        )

    # -- check / diff ------------------------------------------------------------------------

    @_explained
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate and normalise agent, phone and label; unknown values pass through."""
        inputs = dict(news)
        failures: list[CheckFailure] = []
        for key, normalise in _NORMALISERS:
            value = news.get(key)
            if value == _UNKNOWN:
                continue
            try:
                inputs[key] = normalise(value)
            except (ValueError, TypeError) as err:  # PhoneNumberError is a ValueError
                failures.append(CheckFailure(key, f"{key} {err}"))
        if not failures and _UNKNOWN not in (inputs["agent_no"], inputs["phoneno"]):
            ROSTER.claim(inputs["agent_no"], inputs["phoneno"], str(inputs.get("label")))
            if not olds:
                self._count_new(inputs["agent_no"], inputs["phoneno"])
        return CheckResult(inputs, failures)

    def _count_new(self, agent: str, phone: str) -> None:
        """Warn once per agent when a change adds more testers than the daily budget."""
        if ROSTER.note_new(agent, phone) == self._budget + 1:
            _warn(
                f"this change adds more than {self._budget} new testers to agent {agent}; "
                f"Google RBM (behind Kaleyra) accepts {DEFAULT_NEW_TESTER_BUDGET} new tester "
                "invitations per agent per day, so the rest may fail with 429 until tomorrow. "
                f"Split the change over several days, or raise {BUDGET_KEY} if your quota is "
                "higher."
            )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Agent or phone change: replace. Label change: in-place update with no API call.
        Formatting-only phone changes are no change at all."""
        replaces: list[str] = []
        for key in ("agent_no", "phoneno"):
            if not _same_identity(key, olds.get(key), news.get(key)):
                replaces.append(key)
        label_changed = olds.get("label") != news.get("label")
        changes = bool(replaces) or label_changed
        return DiffResult(
            changes=changes,
            replaces=replaces,
            stables=[] if replaces else ["agent_no", "phoneno", "registration_id"],
            delete_before_replace=False,
        )

    # -- create ------------------------------------------------------------------------------

    @_explained
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Adopt the number's registration if the agent's list shows it, else register it;
        "already registered" is adopted, an unknown outcome settled (see ``lookup``)."""
        agent, phone, label = props["agent_no"], props["phoneno"], props["label"]
        lookup = self.lookup
        known = lookup.existing(agent, phone, label)
        if known is not None:
            return self._result(props, known.id, known.status, adopted=True)
        found: Found = lookup.register(agent, phone, label)
        return self._result(
            props, found.id, found.status, adopted=found.adopted, registration=found.registration
        )

    @staticmethod
    def _result(
        props: dict[str, Any],
        registration_id: str | None,
        status: str | None,
        *,
        adopted: bool = False,
        registration: Registration | None = None,
    ) -> CreateResult:
        rid = registration_id or deterministic_id(props["agent_no"], props["label"])
        outs = _outputs(props, rid, status, adopted=adopted)
        if registration is not None:
            outs["override_dcs_check"] = registration.override_dcs_check
        return CreateResult(rid, outs)

    # -- read / update / delete ----------------------------------------------------------------

    @_explained
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from the agent's tester list (one list call per agent per process).
        Only a list read whole and understood may show a tester is gone; without one
        (register-only, masked, paged beyond reach, not understood) state is kept."""
        agent, phone, label = props.get("agent_no"), props.get("phoneno"), props.get("label")
        if not agent or not phone:
            return ReadResult(id_, props)
        verdict, known = self.lookup.for_read(agent, phone, str(label))
        if verdict == "keep":
            return ReadResult(id_, props)
        if verdict == "gone" or known is None:
            _warn(
                f"tester {label} of agent {agent} ({mask_phone(phone)}) is no longer listed by "
                "Kaleyra; it leaves the state and the next `pulumi up` registers it again."
            )
            return ReadResult("", {})
        outs = dict(props)
        outs["status"] = known.status or props.get("status")
        if known.id and known.id != props.get("registration_id"):
            outs["registration_id"] = known.id
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only the label can change in place; no API call."""
        outs = _outputs(
            news,
            olds.get("registration_id") or id_,
            olds.get("status"),
            adopted=bool(olds.get("adopted", False)),
        )
        outs["override_dcs_check"] = bool(olds.get("override_dcs_check", False))
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Kaleyra has no API to remove a tester: drop it from state and say so, unless the
        same number is still declared for the agent in this run: under a new label (a
        rename) or under the same one (a forced replace, ``pulumi up --replace``)."""
        agent, phone, label = props.get("agent_no"), props.get("phoneno"), props.get("label")
        masked = mask_phone(phone) if isinstance(phone, str) and phone else "unknown number"
        if isinstance(agent, str) and isinstance(phone, str):
            still = ROSTER.claimed_by(agent, phone)
            if still is not None:
                log.info("tester %s of agent %s is still declared as %s", label, agent, still)
                return
        _warn(
            f"tester {label} of agent {agent} ({masked}) was removed from the stack but is still "
            "registered at Kaleyra, which has no API to remove testers. Remove it in the "
            "Kaleyra console (RCS > Agents > Testers)."
        )


#: Input properties, checked in this order, and how each is validated and normalised.
_NORMALISERS: tuple[tuple[str, Callable[[object], str]], ...] = (
    ("label", validate_label),
    ("agent_no", normalize_agent),
    ("phoneno", cast(Callable[[object], str], normalize_phone)),  # refuses non-str/int itself
)


def _same_identity(key: str, old: object, new: object) -> bool:
    """Whether two values of ``agent_no`` or ``phoneno`` name the same thing once normalised."""
    if new == _UNKNOWN:
        return False
    try:
        if key == "agent_no":
            return normalize_agent(old) == normalize_agent(new)
        return normalize_phone(old) == normalize_phone(new)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


def _outputs(
    props: dict[str, Any], registration_id: str, status: str | None, *, adopted: bool
) -> dict[str, Any]:
    phone = props["phoneno"]
    return {
        "agent_no": props["agent_no"],
        "phoneno": phone,
        "label": props["label"],
        "registration_id": registration_id,
        "status": status or "Unknown",
        "override_dcs_check": bool(props.get("override_dcs_check", False)),
        "phone_masked": mask_phone(phone),
        "adopted": adopted,
    }
