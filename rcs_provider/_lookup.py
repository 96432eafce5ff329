"""How ``create`` and ``read`` find a number's existing registration: ``kaleyra:lookup``.

- ``list``: look the number up in the agent's tester list first and adopt what is listed,
  then register. "Never a second invitation" holds by looking first.
- ``register-only``: never call the list. ``create`` registers; an "already registered"
  answer (see :mod:`~rcs_provider._kaleyra.conflicts`) is adopted. A register call whose outcome is
  unknown is posted once more after a pause: the register call is the only evidence there
  is, and Kaleyra documents 409 for a number that is already registered, so "never a second
  invitation" rests on that documented 409. ``read`` keeps the state as recorded.
- ``auto`` (default): ``list`` while the list works; when it answers 404/405/501 (or their
  codes inside a 200), a body not understood, or numbers masked so they cannot be matched,
  warn once and finish the run in ``register-only``. Credentials refused (401/403), transport
  failures and other errors still fail; an error body on a refresh keeps the state, warning.

An error inside a success body (:mod:`~rcs_provider._kaleyra.codes`) counts as the status its
code stands for: a transient ``RCS500`` fails the call, as a 500 does, and never gives the
list up for the run; no tester is dropped on it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from ._kaleyra.codes import LIST_SUCCESS, REGISTER_SUCCESS, is_success_code
from ._kaleyra.errors import (
    AlreadyRegisteredError,
    InvalidRequestError,
    KaleyraError,
    ServerError,
    TransportError,
    UnparseableResponseError,
)
from ._kaleyra.paging import TesterList
from ._kaleyra.parsing import Registration
from ._phones import mask_phone
from ._provider_errors import ProviderError
from ._tester_lists import KnownRegistration, ListedTesters, ListRefused, TesterListCache

__all__ = [
    "LOOKUP_KEY",
    "REGISTERED_STATUS",
    "CreatedRegistration",
    "TesterClient",
    "TesterLookup",
    "deterministic_id",
    "unusable_list_reason",
]

LOOKUP_KEY = "kaleyra:lookup"
#: Status of a tester adopted from an "already registered" answer that showed no status.
REGISTERED_STATUS = "Registered"
#: Gateway errors that may come back after Kaleyra registered the number.
AMBIGUOUS_STATUSES = frozenset({502, 504})
#: List answers that mean "this account has no such list call".
_NO_LIST_STATUSES = frozenset({404, 405, 501})


class TesterClient(Protocol):
    """What the provider needs of a Kaleyra client: the two calls its lookups make (a
    ``KaleyraClient`` in production; tests hand in fakes)."""

    def register_tester(
        self, agent_no: str, phoneno: str, *, label: str | None = None
    ) -> Registration: ...

    def tester_list(self, agent_no: str, *, label: str | None = None) -> TesterList: ...


@dataclass(frozen=True)
class CreatedRegistration:
    """A registration made or adopted by ``create``."""

    id: str
    status: str | None


ReadVerdict = Literal["seen", "keep", "gone"]


def deterministic_id(agent_no: str, label: str) -> str:
    """Id of a registration whose id Kaleyra did not show: the same for the same tester."""
    return f"adopted:{agent_no}:{label}"


def unusable_list_reason(error: KaleyraError) -> str | None:
    """What ``auto`` saw when the list call is not one this account has or speaks, else None.
    An error inside a success body is such a sign only when its code means "no list"."""
    in_a_success = (error.status or 0) < 300
    if isinstance(error, UnparseableResponseError) and in_a_success and not error.in_body:
        return f"its answer was not understood ({error.why})"
    if isinstance(error, InvalidRequestError | ServerError | UnparseableResponseError) and (
        error.effective_status in _NO_LIST_STATUSES or (error.code or "").upper() == "RCS405"
    ):
        if error.in_body:
            return f"the list call answered {error.code} inside a {error.status} answer"
        code = error.code if error.code and error.code != str(error.status) else None
        said = " ".join(str(p) for p in (error.status, code) if p)
        return f"the list call answered {said}"
    return None


class TesterLookup:
    """Finds, registers and adopts testers under one ``kaleyra:lookup`` mode for one run.

    Run-wide facts (the list given up in ``auto``, warnings already shown) live in the
    :class:`~rcs_provider._tester_lists.TesterListCache`, which lasts as long as the provider
    process.
    """

    def __init__(
        self,
        api: TesterClient,
        tester_lists: TesterListCache,
        *,
        mode: str,
        warn: Callable[[str], None],
        retry_pause: float = 1.0,
    ) -> None:
        self.api = api
        self.tester_lists = tester_lists
        self.mode = mode
        self.warn = warn
        self.retry_pause = retry_pause

    @property
    def uses_list(self) -> bool:
        """Whether this run still looks numbers up in the agent's list."""
        if self.mode == "register-only":
            return False
        return self.mode == "list" or self.tester_lists.list_given_up is None

    # -- create ------------------------------------------------------------------------------

    def existing(
        self, agent: str, phone: str, label: str, *, fresh: bool = False
    ) -> KnownRegistration | None:
        """The number's registration as the agent's list shows it (``None`` without a list)."""
        if not self.uses_list:
            return None
        try:
            listed = self._listed_testers(agent, label, fresh=fresh)
        except ListRefused as refused:
            raise _refused_again(refused.error, agent, label) from None
        if listed is None:
            return None
        if listed.masked and self.mode == "list":
            raise ProviderError(
                f"Unable to look up tester {label} in the tester list of agent {agent}: "
                f"{listed.masked} of its numbers are masked, so it cannot show whether "
                f"{mask_phone(phone)} is registered. Set {LOOKUP_KEY} to auto or register-only."
            )
        return listed.registrations.get(phone)

    def register(self, agent: str, phone: str, label: str) -> CreatedRegistration:
        """Register the number, adopting it on "already registered"; an unknown outcome is
        settled by the list, or (without one) by posting once more after a pause."""
        posted = self._post(agent, phone, label)
        if isinstance(posted, CreatedRegistration):
            return posted
        return self._settle(agent, phone, label, posted)

    def _post(self, agent: str, phone: str, label: str) -> CreatedRegistration | KaleyraError:
        """One register call: the registration ("already registered" adopted), or the error
        after which the number may or may not be registered; any other error is raised."""
        try:
            registration = self.api.register_tester(agent, phone, label=label)
        except AlreadyRegisteredError as err:
            return self._adopt(agent, phone, label, err)
        except (TransportError, ServerError) as err:
            if not _outcome_unknown(err):
                raise
            return err
        self.tester_lists.record(agent, phone, KnownRegistration(registration.id, "Unverified"))
        return self._registered(agent, label, registration)

    def _settle(
        self, agent: str, phone: str, label: str, first: KaleyraError
    ) -> CreatedRegistration:
        action = f"register tester {label} for agent {agent}"
        why = f"the outcome is unknown ({first.why})"
        if self.uses_list:
            known = self.existing(agent, phone, label, fresh=True)
            if known is not None:
                return CreatedRegistration(known.id or deterministic_id(agent, label), known.status)
            if self.uses_list:
                raise ProviderError(
                    f"Unable to {action}: {why}, and the agent's tester list does not show "
                    f"{mask_phone(phone)}. Run `pulumi up` again: it looks the number up before "
                    "registering, so no second invitation is sent."
                )
        time.sleep(self.retry_pause)
        posted = self._post(agent, phone, label)
        if isinstance(posted, CreatedRegistration):
            return posted
        raise ProviderError(
            f"Unable to {action}: {why}, and posting it once more left it unknown again "
            f"({posted.why}). Run `pulumi up` again: Kaleyra answers 409 for a number that is "
            "already registered, and that answer is adopted, so no second invitation is sent."
        )

    def _registered(
        self, agent: str, label: str, registration: Registration
    ) -> CreatedRegistration:
        """The registration Kaleyra confirmed; a code other than its success code is adopted
        all the same (an id came with it, and no error), and named once per run."""
        code = registration.code
        if not is_success_code(code, success=REGISTER_SUCCESS) and self.tester_lists.first_time(
            f"register-code:{code}"
        ):
            self.warn(
                f"Kaleyra registered tester {label} for agent {agent} with code {code}, not "
                f"{REGISTER_SUCCESS}; its registration id was adopted. Report the code if it "
                "means something else."
            )
        return CreatedRegistration(registration.id, "Unverified")

    def _adopt(
        self, agent: str, phone: str, label: str, err: AlreadyRegisteredError
    ) -> CreatedRegistration:
        if self.uses_list:
            known = self.existing(agent, phone, label, fresh=True)
            if known is not None and known.id:
                return CreatedRegistration(known.id, known.status or REGISTERED_STATUS)
        rid = err.existing_id or deterministic_id(agent, label)
        return CreatedRegistration(rid, REGISTERED_STATUS)

    # -- read --------------------------------------------------------------------------------

    def for_read(
        self, agent: str, phone: str, label: str
    ) -> tuple[ReadVerdict, KnownRegistration | None]:
        """``seen`` (with the listed registration), ``keep`` (state stays: no list, or one not
        read whole) or ``gone`` (a complete, understood list does not show the number)."""
        if not self.uses_list:
            self._blind_read_warning()
            return "keep", None
        try:
            listed = self._listed_testers(agent, label, fresh=False)
        except ListRefused:
            # The first look-up of this agent failed with the credentials' error, which
            # fails the run: one error per agent, not one per tester; the rest stay as recorded.
            return "keep", None
        except KaleyraError as err:
            # An error inside a success body is not a list: `list` fails on it, `auto` keeps
            # the state (as for any answer not understood), and neither drops a tester.
            kept = self.mode == "auto" if err.in_body else isinstance(err, UnparseableResponseError)
            if not kept:
                raise
            if self.tester_lists.first_time(f"unparseable-list:{agent}"):
                self.warn(f"{err} Kept the testers of agent {agent} as recorded in state.")
            return "keep", None
        if listed is None:
            return "keep", None
        known = listed.registrations.get(phone)
        if known is not None:
            return "seen", known
        if listed.gaps is not None:
            if self.tester_lists.first_time(f"partial-list:{agent}"):
                self.warn(
                    f"the tester list of agent {agent} could not be read whole ({listed.gaps}); "
                    "testers it does not show are kept as recorded in state."
                )
            return "keep", None
        return "gone", None

    def _blind_read_warning(self) -> None:
        if self.tester_lists.list_given_up is None and self.tester_lists.first_time("blind-read"):
            self.warn(
                f"{LOOKUP_KEY} is register-only: refresh cannot see testers removed or changed "
                "in the Kaleyra console without the tester list, so state is kept as recorded."
            )

    # -- the list ----------------------------------------------------------------------------

    def _listed_testers(self, agent: str, label: str, *, fresh: bool) -> ListedTesters | None:
        """The agent's listed testers; ``None`` when ``auto`` gave the list up (now or earlier)."""

        def lister(agent_no: str) -> TesterList:
            if self.mode == "auto" and self.tester_lists.list_given_up is not None:
                raise _GivenUp  # another call gave the list up while this one waited
            try:
                found = self.api.tester_list(agent_no, label=label)
            except KaleyraError as err:
                reason = unusable_list_reason(err)
                if self.mode != "auto" or reason is None:
                    raise
                # Given up while the agent's lock is held, so no caller queued behind this
                # one lists again before it sees the decision.
                self._give_up(reason)
                raise _GivenUp from None
            code = found.unknown_code
            if code is not None and self.tester_lists.first_time(f"list-code:{agent_no}:{code}"):
                self.warn(
                    f"the tester list of agent {agent_no} answered with code {code}, not "
                    f"{LIST_SUCCESS}; its testers were read as listed. Report the code if it "
                    "means something else."
                )
            return found

        try:
            listed = self.tester_lists.testers(agent, lister, fresh=fresh)
        except _GivenUp:
            return None
        if listed.masked and self.mode == "auto":
            self._give_up(
                f"it shows {listed.masked} numbers masked (like 91953XXXXX92), which cannot "
                "be matched to the numbers in this stack"
            )
            return None
        return listed

    def _give_up(self, reason: str) -> None:
        if self.tester_lists.give_up_list(reason):
            self.warn(
                f"{LOOKUP_KEY} is auto and the agent's tester list cannot be used: {reason}. "
                "This run goes on in register-only mode: testers are registered directly and "
                "an 'already registered' answer (409) is adopted; refresh keeps state as "
                "recorded, as it cannot see testers removed in the Kaleyra console. Set "
                f"{LOOKUP_KEY} to register-only to skip the list call, or check "
                "kaleyra:listPath and kaleyra:listMethod."
            )


def _refused_again(error: KaleyraError, agent: str, label: str) -> KaleyraError:
    """The agent's refused list call, as the error of ``label``'s look-up (no second call)."""
    again = copy.copy(error)
    again.action = f"look up tester {label} in the tester list of agent {agent}"
    again.why = f"{error.why} (the answer to this run's list call of agent {agent})"
    again.args = (again._text(),)
    return again


class _GivenUp(Exception):
    """The list was given up for this run while a caller waited for it."""


def _outcome_unknown(err: KaleyraError) -> bool:
    """A failure after which the registration may or may not have reached Kaleyra."""
    return isinstance(err, TransportError) or err.effective_status in AMBIGUOUS_STATUSES
