"""API personalities: the variants of Kaleyra's tester API a real account may turn out to be.

Kaleyra documents one tester call, register. Everything else (the list call, its shape, paging,
masking, the body of a 409) is undocumented, so the sandbox can play each plausible variant:

- ``documented``: the sandbox's default assumptions (list under ``data.testers``, 409 ``RCS409``
  carrying the existing id).
- ``no-list``: only the documented register path exists; every other ``/v1/`` path (the list
  paths, the register alias) answers 404, and a duplicate answers 409
  ``{"message": "Conflict (Subject already)"}`` with no id (the wording of Kaleyra's error table).
- ``bare-conflict``: a duplicate answers 409 with a plain-text body and no id; the list works.
- ``masked-list``: the list shows numbers masked like ``91953XXXXX92``.
- ``paged-list``: the list answers ``PAGE_SIZE`` testers per page, with ``page``, ``per_page``,
  ``total``, ``total_pages`` and a ``next`` link (``null`` on the last page) under ``data``.
- ``root-list``: the list is the whole body, a JSON array.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from rcs_provider.sandbox import bodies
from rcs_provider.sandbox.bodies import Answer

__all__ = ["PAGE_SIZE", "Personality", "conflict", "list_answer", "refuses_path"]

#: Testers per page in the ``paged-list`` personality.
PAGE_SIZE = 2
#: The 409 message of Kaleyra's RCS error table.
CONFLICT_MESSAGE = "Conflict (Subject already)"
_PLAIN_CONFLICT = "Tester already exists"
_VISIBLE_HEAD, _VISIBLE_TAIL = 5, 2


class Personality(StrEnum):
    """Which variant of the tester API the sandbox plays."""

    DOCUMENTED = "documented"
    NO_LIST = "no-list"
    BARE_CONFLICT = "bare-conflict"
    MASKED_LIST = "masked-list"
    PAGED_LIST = "paged-list"
    ROOT_LIST = "root-list"


def refuses_path(personality: Personality, *, documented_register: bool) -> Answer | None:
    """The 404 of a ``no-list`` Kaleyra for any call but the documented register path."""
    if personality is Personality.NO_LIST and not documented_register:
        return bodies.not_found()
    return None


def conflict(personality: Personality, agent_no: str, registration_id: str) -> Answer:
    """What a duplicate register call answers."""
    if personality is Personality.NO_LIST:
        return Answer(409, {"message": CONFLICT_MESSAGE})
    if personality is Personality.BARE_CONFLICT:
        return Answer(409, _PLAIN_CONFLICT, media_type=bodies.TEXT_TYPE)
    return bodies.already_registered(agent_no, registration_id)


def list_answer(
    personality: Personality,
    records: list[dict[str, Any]],
    *,
    path: str,
    agent_no: str,
    page: int,
) -> Answer:
    """The agent's tester list (``records`` oldest first) as this personality shows it."""
    if personality is Personality.MASKED_LIST:
        return bodies.testers([{**r, "phoneno": mask(r["phoneno"])} for r in records])
    if personality is Personality.ROOT_LIST:
        return Answer(200, records)
    if personality is Personality.PAGED_LIST:
        return _page(records, path=path, agent_no=agent_no, page=page)
    return bodies.testers(records)


def mask(phoneno: str) -> str:
    """``919530000092`` -> ``91953XXXXX92``."""
    hidden = max(0, len(phoneno) - _VISIBLE_HEAD - _VISIBLE_TAIL)
    return phoneno[:_VISIBLE_HEAD] + "X" * hidden + phoneno[len(phoneno) - _VISIBLE_TAIL :]


def _page(records: list[dict[str, Any]], *, path: str, agent_no: str, page: int) -> Answer:
    total_pages = max(1, math.ceil(len(records) / PAGE_SIZE))
    if page < 1 or page > total_pages:
        return bodies.invalid_fields({"page": f"must be between 1 and {total_pages}"})
    start = (page - 1) * PAGE_SIZE
    following = urlencode({"agent_number": agent_no, "page": page + 1})
    answer = bodies.testers(records[start : start + PAGE_SIZE])
    answer.body["data"] |= {
        "page": page,
        "per_page": PAGE_SIZE,
        "total": len(records),
        "total_pages": total_pages,
        "next": f"{path}?{following}" if page < total_pages else None,
    }
    return answer
