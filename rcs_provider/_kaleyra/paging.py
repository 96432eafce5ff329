"""Reading an agent's tester list whole: pagination signs, masked numbers, completeness.

Kaleyra publishes no sample of the list answer, so nothing says whether it pages or masks
numbers. One page is read as the whole list only when it shows no sign of more; a page with
signs (a next link or cursor, page / total / limit fields) is followed, up to
:data:`MAX_LIST_PAGES` pages. A list that could not be read whole is marked incomplete, and
nobody may conclude from it that a tester is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .parsing import TesterRecord

__all__ = [
    "MAX_LIST_PAGES",
    "PageInfo",
    "TesterList",
    "page_info",
]

#: Most pages read for one agent's list (then the list counts as not read whole).
MAX_LIST_PAGES = 50

_NEXT_LINK_KEYS = ("next", "next_url", "nextUrl", "next_page_url", "nextPageUrl", "nextLink")
#: Cursor field -> the query parameter that sends it back.
_CURSOR_KEYS = {
    "next_cursor": "cursor",
    "nextCursor": "cursor",
    "next_page_token": "page_token",
    "nextPageToken": "pageToken",
}
_PAGE_KEYS = ("page", "current_page", "currentPage", "page_number", "pageNumber")
_TOTAL_PAGES_KEYS = ("total_pages", "totalPages", "last_page", "lastPage", "page_count")
_TOTAL_KEYS = ("total", "total_count", "totalCount", "total_records", "totalRecords")
_LIMIT_KEYS = ("per_page", "perPage", "page_size", "pageSize", "limit")
_MORE_KEYS = ("has_more", "hasMore", "more")
_OFFSET_KEYS = ("offset", "start")
_HOLDERS = ((), ("data",), ("meta",), ("pagination",), ("paging",), ("links",), ("data", "meta"))


@dataclass(frozen=True)
class PageInfo:
    """What one page says about the pages after it.

    ``next_link`` (path or URL) or ``next_params`` (query parameters for the list path) say
    how to fetch the next page; ``more`` that there is more, even when neither says how.
    ``signs`` lists every pagination field seen, for people (``doctor``, warnings).
    """

    signs: tuple[str, ...] = ()
    next_link: str | None = None
    next_params: dict[str, str] = field(default_factory=dict)
    more: bool = False
    total: int | None = None


@dataclass(frozen=True)
class TesterList:
    """An agent's listed testers and whether the list was read whole and understood.

    ``masked`` counts entries whose number is masked: they cannot be matched to a number and
    are not in ``records``. ``incomplete`` says why the list is not whole (``None``: whole).
    ``unknown_code`` is a code a page carried that is neither an error nor the list's success
    code (:data:`~.codes.LIST_SUCCESS`): the list is read, and the code shown to people.
    """

    records: tuple[TesterRecord, ...]
    incomplete: str | None = None
    masked: int = 0
    signs: tuple[str, ...] = ()
    pages: int = 1
    unknown_code: str | None = None

    @property
    def complete(self) -> bool:
        """Read whole, every entry understood: only such a list may show a tester is gone."""
        return self.incomplete is None and self.masked == 0


def page_info(doc: Any, *, items_on_page: int, read_so_far: int) -> PageInfo:
    """Pagination signs of one parsed list page and how to fetch the next one."""
    fields = _pagination_fields(doc)
    if not fields:
        return PageInfo()
    signs = tuple(f"{key}={_shown(value)}" for key, value in fields.items())
    link = _first_text(fields, _NEXT_LINK_KEYS)
    if link is not None:
        return PageInfo(signs, next_link=link, more=True, total=_first_int(fields, _TOTAL_KEYS))
    for key, param in _CURSOR_KEYS.items():
        cursor = _first_text(fields, (key,))
        if cursor is not None:
            return PageInfo(signs, next_params={param: cursor}, more=True)
    total = _first_int(fields, _TOTAL_KEYS)
    page = _first_int(fields, _PAGE_KEYS)
    total_pages = _first_int(fields, _TOTAL_PAGES_KEYS)
    more = _first_bool(fields, _MORE_KEYS)
    if total_pages is not None and page is not None:
        more = page < total_pages
    elif total is not None:
        more = read_so_far < total and items_on_page > 0
    elif not more:
        limit = _first_int(fields, _LIMIT_KEYS)
        more = limit is not None and items_on_page >= limit > 0
    if not more:
        return PageInfo(signs, total=total)
    if page is not None:
        return PageInfo(signs, next_params={"page": str(page + 1)}, more=True, total=total)
    offset = _first_int(fields, _OFFSET_KEYS)
    if offset is not None:
        following = {"offset": str(offset + items_on_page)}
        return PageInfo(signs, next_params=following, more=True, total=total)
    return PageInfo(signs, more=True, total=total)


def _pagination_fields(doc: Any) -> dict[str, Any]:
    """Every pagination-looking scalar field near the top of the answer, by name."""
    known = {
        *_NEXT_LINK_KEYS,
        *_CURSOR_KEYS,
        *_PAGE_KEYS,
        *_TOTAL_PAGES_KEYS,
        *_TOTAL_KEYS,
        *_LIMIT_KEYS,
        *_MORE_KEYS,
        *_OFFSET_KEYS,
    }
    found: dict[str, Any] = {}
    for path in _HOLDERS:
        holder = doc
        for key in path:
            holder = holder.get(key) if isinstance(holder, Mapping) else None
        if not isinstance(holder, Mapping):
            continue
        for key, value in holder.items():
            if isinstance(value, Mapping) and key in _NEXT_LINK_KEYS:
                value = value.get("href")
            if key in known and key not in found and _is_scalar(value):
                found[key] = value
    return found


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _first_text(fields: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _first_int(fields: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return None


def _first_bool(fields: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    return any(fields.get(key) is True for key in keys)
