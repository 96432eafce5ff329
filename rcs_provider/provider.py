"""TesterProvider: the dynamic provider behind :class:`~rcs_provider._resource.RcsTester`.

It translates Pulumi property dicts to :class:`~rcs_provider._kaleyra.client.KaleyraClient`
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
from collections.abc import Callable, Mapping
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
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from . import _engine_log as engine_log
from ._kaleyra.client import KaleyraClient
from ._kaleyra.errors import ConfigurationError, KaleyraError
from ._kaleyra.settings import CONFIG_KEYS
from ._line_type import line_type_problem
from ._lookup import TesterClient, TesterLookup, deterministic_id
from ._phones import (
    DAILY_INVITATION_LIMIT,
    mask_phone,
    normalize_agent,
    normalize_phone,
    validate_label,
)
from ._provider_config import (
    BUDGET_KEY,
    DEFAULT_CREDENTIAL_SOURCES,
    DEFAULT_NEW_TESTER_BUDGET,
    credential_sources,
    new_tester_budget_from_config,
    settings_from_config,
)
from ._provider_errors import ProviderError
from ._pulumi_hints import with_pulumi_hint
from ._tester_lists import PROCESS_TESTER_LISTS, TesterListCache

__all__ = [
    "ALLOW_NON_MOBILE_INPUT",
    "TRACEBACKS_ENV",
    "ProviderError",
    "TesterClient",
    "TesterProvider",
    "shown_as_sentence",
]

log = logging.getLogger(__name__)
_Op = TypeVar("_Op", bound=Callable[..., Any])
#: Set to show full Python tracebacks in provider errors (for debugging the provider itself).
TRACEBACKS_ENV = "RCS_TESTERS_TRACEBACKS"
#: Optional input: true accepts a phone whatever its line type (see line_type).
ALLOW_NON_MOBILE_INPUT = "allow_non_mobile"
_API_KEY = CONFIG_KEYS["api_key"]


def _explained(operation: _Op) -> _Op:
    """Re-raise our own errors in Pulumi's words and without their chain: the engine shows the
    provider's traceback text, and ``Unable to <action>: <why>. <what to do>`` is all a person
    needs there. Unless :data:`TRACEBACKS_ENV` is set, the error is re-raised as its sentence
    alone (see :func:`shown_as_sentence`)."""

    @functools.wraps(operation)
    def wrapper(self: TesterProvider, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(self, *args, **kwargs)
        except KaleyraError as err:
            explained: Exception = with_pulumi_hint(err, sources=self._credential_sources)
        except ProviderError as err:
            explained = err
        if os.environ.get(TRACEBACKS_ENV):
            raise explained from None
        raise shown_as_sentence(explained) from None

    return cast(_Op, wrapper)


def shown_as_sentence(err: Exception) -> Exception:
    """An exception that :mod:`traceback` renders as ``str(err)`` alone.

    The dynamic provider server sends the engine ``traceback.format_exc()``, which starts with
    the exception's class and module (``rcs_provider._kaleyra.errors.AuthenticationError: ``)
    even with no traceback lines. :mod:`traceback` writes a class of module ``builtins`` by its
    qualified name only, and writes that name alone when the message is empty: so the sentence
    becomes the name of a one-off class of that module, raised with no message."""
    sentence: type[Exception] = type(
        "ProviderErrorSentence", (Exception,), {"__module__": "builtins"}
    )
    sentence.__qualname__ = str(err)
    return sentence()


def _warn(message: str) -> None:
    """Show a warning in the engine's output, counted as a warning (see :mod:`._engine_log`)."""
    engine_log.warn(message)


class TesterProvider(ResourceProvider):
    """Registers a phone number as a tester of a Kaleyra RCS agent.

    Inputs: ``agent_no``, ``phoneno`` (secret), ``label``. Outputs add ``registration_id`` and
    ``status``, nothing else: every output is stored for every tester in every checkpoint, and
    the engine hands diff, read and delete only the old outputs, so the three inputs stay.
    Configured from the ``kaleyra:`` stack config in :meth:`configure`, which builds the
    client. ``client`` and ``tester_lists`` (a tester-list cache) may be handed in instead
    (tests); the cache defaults to :data:`~rcs_provider._tester_lists.PROCESS_TESTER_LISTS`,
    shared by every instance the engine unpickles in this process, so that a label rename is
    seen as one tester.
    """

    serialize_as_secret_always = False

    # Class-level defaults: instances unpickled from state carry no attributes of their own.
    _client: TesterClient | None = None
    _tester_lists: TesterListCache | None = None
    _budget: int = DEFAULT_NEW_TESTER_BUDGET
    _lookup_mode: str = "auto"
    _retry_pause: float = 0.0
    _credential_sources: Mapping[str, str] = DEFAULT_CREDENTIAL_SOURCES
    _missing_api_key: ConfigurationError | None = None

    def __init__(
        self,
        *,
        client: TesterClient | None = None,
        tester_lists: TesterListCache | None = None,
        lookup: str | None = None,
    ) -> None:
        super().__init__()
        if client is not None:
            self._client = client
        if tester_lists is not None:
            self._tester_lists = tester_lists
        if lookup is not None:
            self._lookup_mode = lookup

    def __getstate__(self) -> None:
        """Nothing of an instance goes into state: the client and the tester-list cache are per
        process."""
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
            try:
                settings = settings_from_config(req.config.get)
            except ConfigurationError as err:
                if err.problems != [(_API_KEY, "is not set")]:
                    raise
                # A preview (check, diff), a label change and a removal call no Kaleyra API,
                # so a pipeline previews pull requests without the key; create and read
                # raise this error, before their first call.
                self._missing_api_key = err
            else:
                self._client = KaleyraClient(settings)
                self._lookup_mode = settings.lookup
                self._retry_pause = min(settings.backoff_max, 4 * settings.backoff_factor)
        self._credential_sources = credential_sources(req.config.get)
        self._budget = new_tester_budget_from_config(req.config.get)

    @property
    def client(self) -> TesterClient:
        if self._client is None:
            if self._missing_api_key is not None:
                err = self._missing_api_key
                raise ConfigurationError(str(err), key=err.key, problems=err.problems)
            raise RuntimeError("TesterProvider used before configure(); this is a bug")
        return self._client

    @property
    def tester_lists(self) -> TesterListCache:
        """What this process knows of each agent's testers (shared unless one was handed in)."""
        return PROCESS_TESTER_LISTS if self._tester_lists is None else self._tester_lists

    @property
    def lookup(self) -> TesterLookup:
        """Finding, registering and adopting under ``kaleyra:lookup`` (see :mod:`.lookup`)."""
        return TesterLookup(
            self.client,
            self.tester_lists,
            mode=self._lookup_mode,
            warn=_warn,
            retry_pause=self._retry_pause,
        )

    # -- check / diff ------------------------------------------------------------------------

    @_explained
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate and normalise agent, phone and label, and refuse a phone that can never
        receive RCS unless ``allow_non_mobile`` is set; unknown values pass through."""
        inputs = dict(news)
        failures: list[CheckFailure] = []
        for key, normalise in _NORMALISERS:
            value = news.get(key)
            if _is_unknown(value):
                continue
            try:
                inputs[key] = normalise(value)
            except (ValueError, TypeError) as err:  # PhoneNumberError is a ValueError
                failures.append(CheckFailure(key, f"{key} {err}"))
        phone_ok = all(failure.property != "phoneno" for failure in failures)
        if phone_ok and inputs.get("phoneno") is not None and not _is_unknown(inputs["phoneno"]):
            allowed = news.get(ALLOW_NON_MOBILE_INPUT) is True
            unreachable = line_type_problem(inputs["phoneno"], allow_non_mobile=allowed)
            if unreachable is not None:
                failures.append(CheckFailure("phoneno", f"phoneno {unreachable}"))
        if not failures and not any(_is_unknown(inputs[k]) for k in ("agent_no", "phoneno")):
            self.tester_lists.claim(inputs["agent_no"], inputs["phoneno"], str(inputs.get("label")))
            if not olds:
                self._count_new(inputs["agent_no"], inputs["phoneno"])
        return CheckResult(inputs, failures)

    def _count_new(self, agent: str, phone: str) -> None:
        """Warn once per agent when a change adds more testers than the daily budget."""
        if self.tester_lists.note_new(agent, phone) == self._budget + 1:
            _warn(
                f"this change adds more than {self._budget} new testers to agent {agent} "
                f"({BUDGET_KEY} is {self._budget}; its default, {DAILY_INVITATION_LIMIT}, is "
                "Google RBM's daily limit of tester invitations per agent behind Kaleyra), so "
                f"the testers beyond {self._budget} may fail with 429 until tomorrow. Split the "
                f"change over several days, or raise {BUDGET_KEY} if your account's quota is "
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
        "already registered" is adopted, an unknown outcome settled (see :mod:`.lookup`)."""
        agent, phone, label = props["agent_no"], props["phoneno"], props["label"]
        lookup = self.lookup
        known = lookup.existing(agent, phone, label)
        if known is not None:
            return self._result(props, known.id, known.status)
        found = lookup.register(agent, phone, label)
        return self._result(props, found.id, found.status)

    @staticmethod
    def _result(
        props: dict[str, Any], registration_id: str | None, status: str | None
    ) -> CreateResult:
        rid = registration_id or deterministic_id(props["agent_no"], props["label"])
        return CreateResult(rid, _outputs(props, rid, status))

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
            still = self.tester_lists.claimed_by(agent, phone)
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


def _is_unknown(value: object) -> bool:
    """Whether ``value`` is not known yet (a preview): the engine's marker string, or the
    ``Unknown`` object the SDK turns it into when it deserialises inputs for ``check``."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def _same_identity(key: str, old: object, new: object) -> bool:
    """Whether two values of ``agent_no`` or ``phoneno`` name the same thing once normalised."""
    if _is_unknown(new):
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
