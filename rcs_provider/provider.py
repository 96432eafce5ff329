"""TesterProvider: the dynamic provider behind :class:`~rcs_provider.resource.RcsTester`.

It translates Pulumi property dicts to :class:`~rcs_provider.kaleyra.client.KaleyraClient`
calls and back, and is where the client's errors get Pulumi's wording. No HTTP here. Create
adopts an existing registration before it registers, so a retry or a crash never sends a second
invitation; delete cannot deregister (Kaleyra has no such API) and says so loudly; phone numbers
leave this module masked only.

The class is pickled by reference into every tester's state (``rcs_provider.provider.
TesterProvider``), without instance state: it must stay importable under that name.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

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
from pulumi.runtime.rpc import UNKNOWN

from .domain import (
    DAILY_INVITATION_LIMIT,
    mask_phone,
    normalize_agent,
    normalize_phone,
    validate_label,
)
from .kaleyra.client import KaleyraClient
from .kaleyra.errors import (
    AlreadyRegisteredError,
    KaleyraError,
    ServerError,
    TransportError,
    UnparseableResponseError,
)
from .kaleyra.parsing import Registration, TesterRecord
from .line_type import line_type_problem
from .provider_config import (
    BUDGET_KEY,
    DEFAULT_NEW_TESTER_BUDGET,
    new_tester_budget_from_config,
    settings_from_config,
)
from .pulumi_hints import with_pulumi_hint
from .roster import PROCESS_ROSTER, Roster, Sighting

__all__ = [
    "ALLOW_NON_MOBILE_INPUT",
    "TRACEBACKS_ENV",
    "ProviderError",
    "TesterClient",
    "TesterProvider",
]

log = logging.getLogger(__name__)
_Op = TypeVar("_Op", bound=Callable[..., Any])
#: Set to show full Python tracebacks in provider errors (for debugging the provider itself).
TRACEBACKS_ENV = "RCS_TESTERS_TRACEBACKS"
#: Optional input: true accepts a phone whatever its line type (see line_type).
ALLOW_NON_MOBILE_INPUT = "allow_non_mobile"

#: Gateway errors that may come back after Kaleyra registered the number.
_AMBIGUOUS_STATUSES = frozenset({502, 504})


class TesterClient(Protocol):
    """What the provider needs of a Kaleyra client (:class:`KaleyraClient` in production)."""

    def register_tester(
        self, agent_no: str, phoneno: str, *, label: str | None = None
    ) -> Registration: ...

    def list_testers(self, agent_no: str, *, label: str | None = None) -> list[TesterRecord]: ...


def _explained(operation: _Op) -> _Op:
    """Re-raise our own errors without their chain: the engine shows the provider's traceback
    text, and ``Unable to <action>: <why>. <what to do>`` is all a person needs there."""

    @functools.wraps(operation)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except KaleyraError as err:
            raise with_pulumi_hint(err) from None
        except ProviderError as err:
            raise err from None

    return cast(_Op, wrapper)


class ProviderError(RuntimeError):
    """An operation failed for a reason the message explains (no Kaleyra status involved)."""


def _warn(message: str) -> None:
    """Show a warning in the engine's output (the provider's stderr is shown to the user)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


class TesterProvider(ResourceProvider):
    """Registers a phone number as a tester of a Kaleyra RCS agent.

    Inputs: ``agent_no``, ``phoneno`` (secret), ``label``. Outputs add ``registration_id`` and
    ``status``, nothing else: every output is stored for every tester in every checkpoint, and
    the engine hands diff, read and delete only the old outputs, so the three inputs stay.
    Configured from the ``kaleyra:`` stack config in :meth:`configure`, which builds the
    client. ``client`` and ``roster`` may be handed in instead (tests); the roster defaults to
    :data:`~rcs_provider.roster.PROCESS_ROSTER`, shared by every instance the engine unpickles
    in this process, so that a label rename is seen as one tester.
    """

    serialize_as_secret_always = False

    # Class-level defaults: instances unpickled from state carry no attributes of their own.
    _client: TesterClient | None = None
    _roster: Roster | None = None
    _budget: int = DEFAULT_NEW_TESTER_BUDGET

    def __init__(self, *, client: TesterClient | None = None, roster: Roster | None = None) -> None:
        super().__init__()
        if client is not None:
            self._client = client
        if roster is not None:
            self._roster = roster

    def __getstate__(self) -> None:
        """Nothing of an instance goes into state: the client and roster are per process."""
        return None

    # -- configuration -------------------------------------------------------------------------

    @_explained
    def configure(self, req: ConfigureRequest) -> None:
        """Build the client from ``kaleyra:*`` config (errors name the key to set), unless one
        was handed in, and read the new-tester budget."""
        if not os.environ.get(TRACEBACKS_ENV):
            # This process serves only dynamic providers; the engine prints the traceback
            # text of a failed call, and our messages are written to stand alone.
            sys.tracebacklimit = 0
        if self._client is None:
            self._client = KaleyraClient(settings_from_config(req.config.get))
        self._budget = new_tester_budget_from_config(req.config.get)

    @property
    def client(self) -> TesterClient:
        if self._client is None:
            raise RuntimeError("TesterProvider used before configure(); this is a bug")
        return self._client

    @property
    def roster(self) -> Roster:
        """What this process knows of each agent's testers (shared unless one was handed in)."""
        return PROCESS_ROSTER if self._roster is None else self._roster

    # -- check / diff ------------------------------------------------------------------------

    @_explained
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate and normalise agent, phone and label, and refuse a phone that can never
        receive RCS unless ``allow_non_mobile`` is set; unknown values pass through."""
        inputs = dict(news)
        failures: list[CheckFailure] = []
        for key, normalise in _NORMALISERS:
            value = news.get(key)
            if value == UNKNOWN:
                continue
            try:
                inputs[key] = normalise(value)
            except (ValueError, TypeError) as err:  # PhoneNumberError is a ValueError
                failures.append(CheckFailure(key, f"{key} {err}"))
        phone_ok = all(failure.property != "phoneno" for failure in failures)
        if phone_ok and inputs.get("phoneno") not in (None, UNKNOWN):
            allowed = news.get(ALLOW_NON_MOBILE_INPUT) is True
            unreachable = line_type_problem(inputs["phoneno"], allow_non_mobile=allowed)
            if unreachable is not None:
                failures.append(CheckFailure("phoneno", f"phoneno {unreachable}"))
        if not failures and UNKNOWN not in (inputs["agent_no"], inputs["phoneno"]):
            self.roster.claim(inputs["agent_no"], inputs["phoneno"], str(inputs.get("label")))
            if not olds:
                self._count_new(inputs["agent_no"], inputs["phoneno"])
        return CheckResult(inputs, failures)

    def _count_new(self, agent: str, phone: str) -> None:
        """Warn once per agent when a change adds more testers than the daily budget."""
        if self.roster.note_new(agent, phone) == self._budget + 1:
            _warn(
                f"this change adds more than {self._budget} new testers to agent {agent}; "
                f"Google RBM (behind Kaleyra) accepts {DAILY_INVITATION_LIMIT} new tester "
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
        """Adopt the number's registration if the agent already lists it, else register it.
        A 409, or a failure that leaves the outcome unknown, leads to a fresh look-up."""
        agent, phone, label = props["agent_no"], props["phoneno"], props["label"]
        action = f"register tester {label} for agent {agent}"
        known = self._lookup(agent, phone, label, fresh=False)
        if known is not None:
            return self._result(props, known.id, known.status)
        try:
            registration = self.client.register_tester(agent, phone, label=label)
        except AlreadyRegisteredError:
            return self._adopt_after(agent, phone, label, props, action, "Kaleyra answered 409")
        except (TransportError, ServerError) as err:
            if isinstance(err, ServerError) and err.status not in _AMBIGUOUS_STATUSES:
                raise
            # The request may have reached Kaleyra: never send it twice, look it up instead.
            return self._adopt_after(
                agent, phone, label, props, action, f"the outcome is unknown ({err.why})"
            )
        self.roster.record(agent, phone, Sighting(registration.id, "Unverified"))
        return self._result(props, registration.id, "Unverified")

    def _adopt_after(
        self, agent: str, phone: str, label: str, props: dict[str, Any], action: str, why: str
    ) -> CreateResult:
        known = self._lookup(agent, phone, label, fresh=True)
        if known is None:
            raise ProviderError(
                f"Unable to {action}: {why}, and the agent's tester list does not show "
                f"{mask_phone(phone)}. Run `pulumi up` again: it looks the number up before "
                "registering, so no second invitation is sent."
            )
        return self._result(props, known.id, known.status)

    def _lookup(self, agent: str, phone: str, label: str, *, fresh: bool) -> Sighting | None:
        return self.roster.lookup(
            agent,
            phone,
            lambda a: self.client.list_testers(a, label=label),
            fresh=fresh,
        )

    @staticmethod
    def _result(
        props: dict[str, Any], registration_id: str | None, status: str | None
    ) -> CreateResult:
        rid = registration_id or _synthetic_id(props["agent_no"], props["label"])
        return CreateResult(rid, _outputs(props, rid, status))

    # -- read / update / delete ----------------------------------------------------------------

    @_explained
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from the agent's tester list (one list call per agent per process).
        A number the list no longer shows is gone; a list that cannot be understood
        changes nothing and warns."""
        agent, phone, label = props.get("agent_no"), props.get("phoneno"), props.get("label")
        if not agent or not phone:
            return ReadResult(id_, props)
        try:
            testers = self.roster.testers(
                agent, lambda a: self.client.list_testers(a, label=str(label))
            )
        except UnparseableResponseError as err:
            _warn(f"{err} Kept tester {label} of agent {agent} as recorded in state.")
            return ReadResult(id_, props)
        known = testers.get(phone)
        if known is None:
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
        """Only the label can change in place; no API call. Outputs an earlier release
        recorded and this one no longer writes (``phone_masked``, ``adopted``,
        ``override_dcs_check``) are dropped here, the first time the tester changes."""
        return UpdateResult(_outputs(news, olds.get("registration_id") or id_, olds.get("status")))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Kaleyra has no API to remove a tester: drop it from state and say so, unless the
        same number is still declared for the agent in this run: under a new label (a
        rename) or under the same one (a forced replace, ``pulumi up --replace``)."""
        agent, phone, label = props.get("agent_no"), props.get("phoneno"), props.get("label")
        masked = mask_phone(phone) if isinstance(phone, str) and phone else "unknown number"
        if isinstance(agent, str) and isinstance(phone, str):
            still = self.roster.claimed_by(agent, phone)
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
    if new == UNKNOWN:
        return False
    if isinstance(new, str) and old == new:
        return True  # the usual case (both already normalised): no phonenumbers parse
    try:
        if key == "agent_no":
            return normalize_agent(old) == normalize_agent(new)
        return normalize_phone(old) == normalize_phone(new)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


def _outputs(props: dict[str, Any], registration_id: str, status: str | None) -> dict[str, Any]:
    """A tester's outputs: its three inputs (diff, read and delete get only these) and what
    Kaleyra said. The program masks the phone itself; it is not stored a second time."""
    return {
        "agent_no": props["agent_no"],
        "phoneno": props["phoneno"],
        "label": props["label"],
        "registration_id": registration_id,
        "status": status or "Unknown",
    }


def _synthetic_id(agent: str, label: str) -> str:
    """Id for a registration whose list entry has no id (the list shape is undocumented)."""
    return f"adopted:{agent}:{label}"
