"""The program's own stack-config rules, as the review applies them to stack files.

Everything the review borrows from the program is imported here and nowhere else, so the
review reads a stack exactly as ``pulumi preview`` does: the same normalisation, the same
validation and the same problem messages, each with its path.

Secret phones (``phone: {secure: v1:...}``) cannot be read without the stack's secrets
provider. For validation each distinct ciphertext stands in as a placeholder number that the
rules accept; the review never claims a secret phone is well formed (preview decrypts and
checks it), only that the rest of the stack is.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._config import (
    ALLOW_CLEAR_PHONES_KEY,
    PHONEBOOK_NAME,
    AgentSpec,
    FleetConfigError,
    clear_api_key_problems,
    compose_stack_text,
    parse_stack_testers,
    stack_file_problems,
)
from .._config.phonebook import phonebook_path
from .._kaleyra.errors import ConfigurationError
from .._kaleyra.settings import (
    CONFIG_KEYS,
    ENV_FALLBACKS,
    POD_BASE_URLS,
    SANDBOX_BASE_URL,
    SANDBOX_POD,
    ClientSettings,
    resolve_base_url,
)
from .._line_type import ALLOW_NON_MOBILE_KEY
from .._phones import (
    MAX_TESTERS_PER_AGENT,
    PhoneNumberError,
    mask_phone,
    normalize_agent,
    normalize_phone,
    redact_digits,
)
from .._provider_config import BUDGET_KEY, DEFAULT_NEW_TESTER_BUDGET, new_tester_budget_from_config

__all__ = [
    "ALLOW_NON_MOBILE_KEY",
    "BUDGET_KEY",
    "CONFIG_KEYS",
    "DEFAULT_NEW_TESTER_BUDGET",
    "MAX_TESTERS_PER_AGENT",
    "PHONEBOOK_NAME",
    "SANDBOX_POD",
    "agent_number",
    "allow_clear_phones_key",
    "api_key_destination",
    "clear_api_key",
    "client_default",
    "mask_phone",
    "new_tester_budget",
    "phone_digits",
    "phonebook_path",
    "preview_problems_and_warnings",
    "redact_digits",
]

SECURE = "secure"
#: Placeholders for secret phones: North American 555-0100..0199 numbers, reserved for
#: fiction, valid for ``phonenumbers`` and never anybody's phone. 600 of them; an agent holds
#: at most 200 testers.
_PLACEHOLDERS = tuple(
    f"1{area}5550{line}" for area in (202, 212, 213, 312, 415, 617) for line in range(100, 200)
)
_PLACEHOLDER_MASK = re.compile(r"1[0-9]{2}X{6}[0-9]{2}")


def agent_number(value: object) -> str | None:
    """The agent's service code as the program normalises it, or None if it is invalid."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        return normalize_agent(value)
    except ValueError:
        return None


def phone_digits(value: object) -> str | None:
    """A clear phone as E.164 digits (the program's normalisation), or None if it is invalid."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        return normalize_phone(value)
    except PhoneNumberError:
        return None


def new_tester_budget(config: Mapping[str, Any]) -> tuple[int, str | None]:
    """``rcs-testers:newTesterBudget`` from a stack's config, with the provider's rule; an
    invalid value gives the default and the provider's own error message."""
    try:
        return new_tester_budget_from_config(config.get), None
    except ConfigurationError as err:
        return DEFAULT_NEW_TESTER_BUDGET, str(err)


def preview_problems_and_warnings(
    agents: object,
    *,
    source: str,
    key: str,
    text: str,
    pod: object,
    allow_clear: object,
    phonebook: object = None,
) -> tuple[list[str], list[str]]:
    """Every problem preview would report for this stack's testers (``path: what to fix``),
    and its warnings (clear phones the stack accepts, unknown line types, people no agent
    refers to), plus a line per tester with ``allowNonMobile: true``.

    ``text`` is the stack file's YAML (where unquoted numbers and clear phones are seen);
    ``agents`` and ``phonebook`` its decoded ``<project>:agents`` and ``<project>:testers``
    values, secret phones still encrypted unless decrypted by the engine; ``pod`` and
    ``allow_clear`` the stack's ``kaleyra:pod`` and ``<project>:allowClearPhones`` values."""
    placeholders = _Placeholders(agents, phonebook)
    text_problems, clear_warning = stack_file_problems(
        text,
        key,
        agents,
        phonebook,
        outside_sandbox=pod != SANDBOX_POD,
        allow_clear_phones=_config_bool(allow_clear),
    )
    try:
        testers = parse_stack_testers(
            placeholders.agents,
            placeholders.phonebook,
            source=source,
            key=key,
            extra_problems=text_problems,
        )
    except FleetConfigError as err:
        return [placeholders.unmask(p) for p in err.problems], _present(clear_warning)
    return [], [
        *_present(clear_warning),
        *(placeholders.unmask(w) for w in testers.warnings),
        *_allow_non_mobile_notes(testers.agents),
    ]


def clear_api_key(text: str, pod: object) -> list[str]:
    """The program's problem for a ``kaleyra:apiKey`` written in clear (none on the sandbox
    pod), for stacks that :func:`preview_problems_and_warnings` cannot read further."""
    if pod == SANDBOX_POD:
        return []
    return clear_api_key_problems(compose_stack_text(text))


def api_key_destination(pod: object, base_url: object) -> tuple[str | None, str]:
    """Where the client sends the api-key for these ``kaleyra:pod`` and ``kaleyra:baseUrl``
    values, resolved as the client resolves them (``kaleyra:baseUrl`` wins; pod ``sandbox``
    alone means the local sandbox): ``(base URL, "")``, or ``(None, why there is none)``."""
    if isinstance(base_url, str) and base_url.strip():
        try:
            return resolve_base_url(None, base_url.strip()), ""
        except ConfigurationError as err:
            return None, f"{CONFIG_KEYS['base_url']} is invalid ({err.problems[0][1]})"
    if base_url not in (None, ""):
        return None, f"{CONFIG_KEYS['base_url']} is not a URL"
    if pod in (None, ""):
        return None, f"no pod in the stack file: ${ENV_FALLBACKS['pod']} decides"
    name = pod.strip().lower() if isinstance(pod, str) else None
    if name == SANDBOX_POD:
        return SANDBOX_BASE_URL, ""
    if name in POD_BASE_URLS:
        return POD_BASE_URLS[name], ""
    return None, f"{CONFIG_KEYS['pod']} is not a known pod"


def client_default(setting: str) -> object:
    """The client's default for a setting (a :class:`ClientSettings` field name)."""
    for field in dataclasses.fields(ClientSettings):
        if field.name == setting:
            return field.default
    raise KeyError(setting)


def _present(warning: str | None) -> list[str]:
    return [] if warning is None else [warning]


def _allow_non_mobile_notes(agents: Sequence[AgentSpec]) -> list[str]:
    """One line per tester whose line type is not checked, so that reviewers see every one."""
    return [
        f"agent {agent.agent_no}: {redact_digits(tester.label)} has {ALLOW_NON_MOBILE_KEY}: true, "
        "so its number is accepted whatever its line type; make sure it is a mobile"
        for agent in agents
        for tester in agent.testers
        if tester.allow_non_mobile
    ]


def allow_clear_phones_key(project: str) -> str:
    return f"{project}:{ALLOW_CLEAR_PHONES_KEY}"


def _config_bool(value: object) -> bool:
    """A boolean stack setting as ``pulumi.Config.get_bool`` reads it."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class _Placeholders:
    """Copies of ``agents`` and ``phonebook`` with each secret phone replaced by a placeholder
    number: one per ciphertext, so a copied ciphertext is still a duplicate. The phonebook's
    ciphertexts are numbered first and shared by every agent (an inline copy of a person's
    secret phone is that person's phone); each agent's own count on from there."""

    def __init__(self, agents: object, phonebook: object) -> None:
        clear_masks = {
            mask_phone(digits)
            for tester in [*_all_testers(agents), *_people(phonebook)]
            if (digits := phone_digits(tester.get("phone"))) is not None
        }
        self.phonebook = copy.deepcopy(phonebook)
        shared: dict[str, str] = {}
        _replace_secrets(_people(self.phonebook), shared)
        used = set(shared.values())
        self.agents = copy.deepcopy(agents)
        for agent in self.agents if isinstance(self.agents, list) else []:
            # Duplicates are checked per agent, and an agent holds at most 200 testers.
            by_ciphertext = dict(shared)
            _replace_secrets(_testers(agent), by_ciphertext)
            used.update(by_ciphertext.values())
        self._secret_masks = {mask_phone(p) for p in used} - clear_masks

    def unmask(self, problem: str) -> str:
        return _PLACEHOLDER_MASK.sub(
            lambda m: "the same secret phone" if m.group(0) in self._secret_masks else m.group(0),
            problem,
        )


def _replace_secrets(testers: list[dict[str, Any]], by_ciphertext: dict[str, str]) -> None:
    for tester in testers:
        if secure_value(tester.get("note")) is not None:
            tester["note"] = "a secret note"
        ciphertext = secure_value(tester.get("phone"))
        if ciphertext is None:
            continue
        if ciphertext not in by_ciphertext:
            by_ciphertext[ciphertext] = _PLACEHOLDERS[len(by_ciphertext) % len(_PLACEHOLDERS)]
        tester["phone"] = by_ciphertext[ciphertext]


def _all_testers(agents: object) -> list[dict[str, Any]]:
    return [t for agent in agents for t in _testers(agent)] if isinstance(agents, list) else []


def _people(phonebook: object) -> list[dict[str, Any]]:
    if not isinstance(phonebook, dict):
        return []
    return [entry for entry in phonebook.values() if isinstance(entry, dict)]


def _testers(agent: object) -> list[dict[str, Any]]:
    if not isinstance(agent, dict) or not isinstance(agent.get("testers"), list):
        return []
    return [t for t in agent["testers"] if isinstance(t, dict)]


def secure_value(value: object) -> str | None:
    """The ciphertext of a ``{secure: v1:...}`` config value, or None for a clear value."""
    if isinstance(value, dict) and set(value) == {SECURE}:
        ciphertext = value[SECURE]
        return ciphertext if isinstance(ciphertext, str) else None
    return None
