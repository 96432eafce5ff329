"""Where and how a stack sends its api-key: a change to the Kaleyra connection settings is an
item that needs a person, since once merged ``pulumi up`` sends the key as they say.

The base URL decides the host the key goes to (``kaleyra:baseUrl``, else the pod's URL); the
paths, the list method and the lookup mode decide which calls carry it. Each changed setting
is shown with its old and new value, never a secret value, never a URL's credentials or query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import rules
from .stack_version import StackVersion

__all__ = ["CONNECTION_SETTINGS", "ConnectionChange", "SettingChange", "connection_changes"]

#: The settings that decide where the api-key goes (first two) and with which calls.
CONNECTION_SETTINGS = ("base_url", "pod", "register_path", "list_path", "list_method", "lookup")
_DESTINATION = ("base_url", "pod")
_SHOWN_CHARS = 120
_UNSAFE = re.compile(r"[`\x00-\x1f\x7f]")
#: How a ``secure:`` setting is shown: never its ciphertext.
SECRET_VALUE = "a secret value"


@dataclass(frozen=True)
class SettingChange:
    """One connection setting: its key and its old and new value as shown (None: not set;
    ``default`` is then what the client uses)."""

    key: str
    before: str | None
    after: str | None
    default: str | None = None

    def text(self) -> str:
        return f"{self.key} {self._shown(self.before)} -> {self._shown(self.after)}"

    def _shown(self, value: str | None) -> str:
        if value == SECRET_VALUE:
            return value
        if value is not None:
            return f"`{value}`"
        return "not set" if self.default is None else f"`{self.default}` (default)"


@dataclass(frozen=True)
class ConnectionChange:
    """Changed settings of one stack that share one consequence, as a "Needs a person" item."""

    settings: tuple[SettingChange, ...]
    action: str


def connection_changes(
    base: StackVersion | None, head: StackVersion | None
) -> list[ConnectionChange]:
    """The connection settings that differ from ``base`` to ``head``: one item for where the
    api-key goes (base URL and pod), one for each other setting. A new stack is an item only
    when it sets ``kaleyra:baseUrl`` (a pod always means Kaleyra's or the sandbox's URL); a
    removed stack sends the key nowhere."""
    if head is None:
        return []
    before = base.config if base is not None else None
    after = head.config
    destination = _destination_change(before, after)
    items = [destination] if destination is not None else []
    if before is None:
        return items
    for setting in CONNECTION_SETTINGS[len(_DESTINATION) :]:
        key = rules.CONFIG_KEYS[setting]
        if before.get(key) != after.get(key):
            change = _setting_change(setting, before, after)
            items.append(
                ConnectionChange(
                    (change,),
                    f"check {change.text()}: it changes the calls that carry the api-key to "
                    f"{_destination(after)}",
                )
            )
    return items


def _destination_change(
    before: dict[str, Any] | None, after: dict[str, Any]
) -> ConnectionChange | None:
    base_url = rules.CONFIG_KEYS["base_url"]
    if before is None:
        if after.get(base_url) in (None, ""):
            return None
        setting = _setting_change("base_url", {}, after)
        return ConnectionChange(
            (setting,),
            f"check where the api-key goes: this new stack sends it to {_destination(after)} "
            f"({setting.text()}); merge only if that is Kaleyra's API or your own proxy",
        )
    changed = tuple(
        _setting_change(s, before, after)
        for s in _DESTINATION
        if before.get(rules.CONFIG_KEYS[s]) != after.get(rules.CONFIG_KEYS[s])
    )
    if not changed:
        return None
    what = "; ".join(change.text() for change in changed)
    old, new = _destination(before), _destination(after)
    if old == new:
        return ConnectionChange(changed, f"check {what}: the api-key still goes to {new}")
    return ConnectionChange(
        changed,
        f"check where the api-key goes: `pulumi up` will send it to {new} instead of {old} "
        f"({what}); merge only if that is Kaleyra's API or your own proxy",
    )


def _destination(config: dict[str, Any]) -> str:
    """The base URL the api-key is sent to, as shown, or why there is none."""
    pod, base_url = config.get(rules.CONFIG_KEYS["pod"]), config.get(rules.CONFIG_KEYS["base_url"])
    if rules.secure_value(base_url) is not None:
        return f"a secret {rules.CONFIG_KEYS['base_url']}"
    url, why = rules.api_key_destination(pod, base_url)
    return f"`{_safe(url)}`" if url is not None else f"nowhere known ({why})"


def _setting_change(setting: str, before: dict[str, Any], after: dict[str, Any]) -> SettingChange:
    default = rules.client_default(setting) if setting not in _DESTINATION else None
    return SettingChange(
        rules.CONFIG_KEYS[setting],
        _value(before, setting),
        _value(after, setting),
        _safe(default) if isinstance(default, str) else None,
    )


def _value(config: dict[str, Any], setting: str) -> str | None:
    """A setting's value as shown (None if not set): a secret as such, a URL without
    credentials or query."""
    value = config.get(rules.CONFIG_KEYS[setting])
    if rules.secure_value(value) is not None:
        return SECRET_VALUE
    if value in (None, ""):
        return None
    return _safe(_url_without_secrets(value) if setting == "base_url" else str(value))


def _url_without_secrets(value: object) -> str:
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "an invalid URL"
    if not host:
        return "an invalid URL"
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port is not None else ""
    return f"{parts.scheme}://{netloc}{parts.path}"


def _safe(text: str) -> str:
    """A value fit for a Markdown code span on one line, of bounded length."""
    shown = _UNSAFE.sub("?", text)
    return shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 3] + "..."
