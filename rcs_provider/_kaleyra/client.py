"""KaleyraClient: register a tester, list an agent's testers. Nothing else.

The transport (:mod:`.transport`) sends and bounds each call, :mod:`.parsing` reads the bodies
and :mod:`.errors` names what went wrong. A success answer whose body reports an error
(:func:`~.codes.is_error_body`) fails as the status its code stands for, in every call. The
client knows nothing of Pulumi.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType
from typing import Self
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from .._phones import mask_phone, normalize_phone, redact_digits
from .codes import LIST_SUCCESS, is_error_body, is_success_code
from .errors import (
    UNCONFIRMED_REGISTRATION_HINT,
    KaleyraError,
    UnparseableResponseError,
)
from .paging import MAX_LIST_PAGES, TesterList, page_info
from .parsing import (
    NOT_JSON,
    Registration,
    TesterRecord,
    extract_code_and_message,
    load_json,
    registration_from,
    tester_page,
    testers_from,
)
from .settings import CONFIG_KEYS, ClientSettings
from .statuses import error_from_response
from .transport import Transport

__all__ = ["KaleyraClient"]

_log = logging.getLogger("rcs_provider.client")
_HEADER_SAFE = re.compile(r"[!-~]+")  # printable ASCII, no spaces


class KaleyraClient:
    """Registers and lists the testers of Kaleyra RCS agents.

    Errors are :class:`~rcs_provider._kaleyra.errors.KaleyraError` subclasses whose text reads
    ``Unable to <action>: <why>. <what to do>``; invalid phone numbers raise
    :class:`~rcs_provider._phones.PhoneNumberError` before any request. Safe to share between
    threads (up to 8 at once). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self._settings = settings
        self._transport = Transport(settings)

    @property
    def base_url(self) -> str:
        """The resolved base URL, without a trailing ``/``."""
        return self._transport.base_url

    def register_tester(
        self, agent_no: str, phoneno: str, *, label: str | None = None
    ) -> Registration:
        """Register ``phoneno`` as a tester of agent ``agent_no`` (sends an invitation)."""
        phone = normalize_phone(phoneno)
        agent = _check_agent(agent_no)
        action = redact_digits(f"register tester {label or mask_phone(phone)} for agent {agent}")
        _log.debug("registering %s as a tester of agent %s", mask_phone(phone), agent)
        response, body = self._transport.request(
            "POST",
            self._settings.register_path,
            action=action,
            json={"phoneno": phone, "agent_no": agent},
        )
        hint = UNCONFIRMED_REGISTRATION_HINT
        doc = self._json(response, body, action, hint, phone_sent=True)
        found = registration_from(
            doc, phone, agent, status=response.status_code, secrets=(self._settings.api_key,)
        )
        if isinstance(found, str):
            raise _unparseable(response, action, found, hint)
        return found

    def list_testers(self, agent_no: str, *, label: str | None = None) -> list[TesterRecord]:
        """The testers of agent ``agent_no`` as its first answer shows them; raises rather
        than guess on an unknown body or masked numbers. See :meth:`tester_list`."""
        agent = _check_agent(agent_no)
        action = _list_action(agent, label)
        method = self._settings.list_method.upper()
        response, body = self._transport.request(
            method,
            self._settings.list_path,
            action=action,
            params={"agent_number": agent},
            json={"agent_number": agent} if method == "POST" else None,
        )
        doc = self._json(response, body, action, _LIST_HINT, phone_sent=False)
        found = testers_from(doc, status=response.status_code, secrets=(self._settings.api_key,))
        if isinstance(found, str):
            raise _unparseable(response, action, found, _LIST_HINT)
        return found

    def tester_list(self, agent_no: str, *, label: str | None = None) -> TesterList:
        """The testers of agent ``agent_no``, following pagination signs page by page.

        Raises rather than guess on a body it does not understand; a list it could not read
        whole (too many pages, no way to the next page, a total that does not add up) comes
        back marked incomplete, and masked numbers are counted, not matched.
        """
        agent = _check_agent(agent_no)
        action = _list_action(agent, label)
        method = self._settings.list_method.upper()
        first = {"agent_number": agent}
        params: dict[str, str] = first
        url: str | None = None
        seen = {urlencode(first)}
        records: list[TesterRecord] = []
        masked = 0
        signs: list[str] = []
        unknown_code: str | None = None
        secrets = (self._settings.api_key,)

        def partial(why: str | None, pages: int) -> TesterList:
            return TesterList(tuple(records), why, masked, tuple(signs), pages, unknown_code)

        for pages in range(1, MAX_LIST_PAGES + 1):
            response, body = self._transport.request(
                method,
                self._settings.list_path,
                url=url,
                action=action,
                params=None if url else params,
                json=first if method == "POST" else None,
            )
            doc = self._json(response, body, action, _LIST_HINT, phone_sent=False)
            page = tester_page(doc, status=response.status_code, secrets=secrets)
            if isinstance(page, str):
                raise _unparseable(response, action, page, _LIST_HINT)
            code = extract_code_and_message(doc, secrets=secrets)[0]
            if unknown_code is None and not is_success_code(code, success=LIST_SUCCESS):
                unknown_code = code
            records += page[0]
            masked += page[1]
            read = len(records) + masked
            info = page_info(doc, items_on_page=len(page[0]) + page[1], read_so_far=read)
            signs += [sign for sign in info.signs if sign not in signs]
            if not info.more:
                if info.total is not None and info.total != read:
                    return partial(f"it said total={info.total} but {read} were listed", pages)
                return partial(None, pages)
            if info.next_link is not None:
                url = self._same_origin(info.next_link)
                if url is None:
                    return partial("its next-page link points away from the configured pod", pages)
            elif info.next_params:
                url, params = None, {**first, **info.next_params}
            else:
                return partial("it shows more testers but no way to fetch them", pages)
            following = url or urlencode(params)
            if following in seen:
                return partial("its pagination did not move on to a new page", pages)
            seen.add(following)
        return partial(f"it has more than {MAX_LIST_PAGES} pages", MAX_LIST_PAGES)

    def probe_register(self) -> KaleyraError | None:
        """Send the register call with an empty JSON object, which Kaleyra must refuse (400, or
        an error body in a 2xx): an answer past its credential check proves the key and the
        path, registering nothing. Returns the error Kaleyra answered, or ``None`` if it
        (wrongly) accepted the call."""
        action = "check the register call with an empty body"
        try:
            response, body = self._transport.request(
                "POST", self._settings.register_path, action=action, json={}
            )
            self._refuse_error_body(response, load_json(body), action, phone_sent=False)
        except KaleyraError as err:
            return err
        return None

    def _same_origin(self, link: str) -> str | None:
        """``link`` resolved against the base URL, if it stays on the same scheme and host."""
        url = urljoin(self.base_url + "/", link)
        base, target = urlsplit(self.base_url), urlsplit(url)
        same = (target.scheme, target.netloc) == (base.scheme, base.netloc)
        return url if same else None

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KaleyraClient(base_url={self.base_url!r})"

    def _json(
        self, response: requests.Response, body: bytes, action: str, hint: str, *, phone_sent: bool
    ) -> object:
        """The parsed body of a success answer; raises when it is not JSON or reports an error."""
        doc = load_json(body, NOT_JSON)
        if doc is NOT_JSON:
            why = f"Kaleyra answered {response.status_code} with a body that is not JSON"
            raise _unparseable(response, action, why, hint)
        self._refuse_error_body(response, doc, action, phone_sent=phone_sent)
        return doc

    def _refuse_error_body(
        self, response: requests.Response, doc: object, action: str, *, phone_sent: bool
    ) -> None:
        """Raise the error a success answer's body reports, as its status would have."""
        if is_error_body(doc):
            secrets = (self._settings.api_key,)
            raise error_from_response(
                response, action=action, secrets=secrets, phone_sent=phone_sent
            )


_LIST_HINT = (
    f"Nothing was concluded from it; check {CONFIG_KEYS['list_path']} and "
    f"{CONFIG_KEYS['list_method']} against Kaleyra's docs, or report the response shape."
)


def _list_action(agent: str, label: str | None) -> str:
    """What a list call does, as its errors say it (phone-like digits masked)."""
    if label:
        return redact_digits(f"look up tester {label} in the tester list of agent {agent}")
    return redact_digits(f"list the testers of agent {agent}")


def _unparseable(
    response: requests.Response, action: str, why: str, hint: str
) -> UnparseableResponseError:
    request = response.request
    return UnparseableResponseError(
        why,
        hint=hint,
        action=action,
        status=response.status_code,
        method=str(request.method or ""),
        path=urlsplit(str(request.url or "")).path,
    )


def _check_agent(agent_no: str) -> str:
    if not isinstance(agent_no, str | int) or isinstance(agent_no, bool):
        raise ValueError(f"agent number must be a string, not {type(agent_no).__name__}")
    agent = str(agent_no).strip()
    if not agent or not _HEADER_SAFE.fullmatch(agent):
        raise ValueError("agent number must be a non-empty string without spaces")
    return agent
