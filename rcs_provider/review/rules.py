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
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..fleet import MAX_TESTERS_PER_AGENT, FleetConfigError, parse_fleet, yaml_number_problems
from ..phone import PhoneNumberError, mask_phone, normalize_phone, redact_digits
from ..provider import normalize_agent
from ..settings import BUDGET_KEY, DEFAULT_NEW_TESTER_BUDGET, new_tester_budget_from_config

__all__ = [
    "BUDGET_KEY",
    "DEFAULT_NEW_TESTER_BUDGET",
    "MAX_TESTERS_PER_AGENT",
    "agent_number",
    "mask_phone",
    "new_tester_budget",
    "phone_digits",
    "redact_digits",
    "validation_problems",
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


def validation_problems(agents: object, *, source: str, key: str, text: str) -> list[str]:
    """Every problem preview would report for this stack's testers, as ``path: what to fix``.

    ``text`` is the stack file's YAML (for unquoted numbers YAML would change); ``agents``
    its decoded ``<project>:agents`` value, with secret phones still encrypted."""
    with_placeholders, secret_masks = _placeholders_for_secret_phones(agents)
    try:
        parse_fleet(with_placeholders, source=source, extra_problems=_number_problems(text, key))
    except FleetConfigError as err:
        return [_unmask_placeholders(p, secret_masks) for p in err.problems]
    return []


def _number_problems(text: str, key: str) -> list[str]:
    # yaml_number_problems reads a file; the base version of a stack lives only in git.
    with tempfile.TemporaryDirectory(prefix="rcs-review-") as folder:
        path = Path(folder) / "stack.yaml"
        path.write_text(text, encoding="utf-8")
        return yaml_number_problems(path, key)


def _placeholders_for_secret_phones(agents: object) -> tuple[object, set[str]]:
    """A copy of ``agents`` with each secret phone replaced by a placeholder number (one per
    ciphertext, so a copied ciphertext is still a duplicate), and the placeholders' masks
    that no clear phone of the stack shares."""
    if not isinstance(agents, list):
        return agents, set()
    clear_masks = set()
    for agent in agents:
        for tester in _testers(agent):
            digits = phone_digits(tester.get("phone"))
            if digits is not None:
                clear_masks.add(mask_phone(digits))
    copied = copy.deepcopy(agents)
    placeholders: set[str] = set()
    for agent in copied:
        # Duplicates are checked per agent, and an agent holds at most 200 testers.
        by_ciphertext: dict[str, str] = {}
        for tester in _testers(agent):
            if secure_value(tester.get("note")) is not None:
                tester["note"] = "a secret note"
            ciphertext = secure_value(tester.get("phone"))
            if ciphertext is None:
                continue
            if ciphertext not in by_ciphertext:
                by_ciphertext[ciphertext] = _PLACEHOLDERS[len(by_ciphertext) % len(_PLACEHOLDERS)]
            tester["phone"] = by_ciphertext[ciphertext]
        placeholders.update(by_ciphertext.values())
    masks = {mask_phone(p) for p in placeholders} - clear_masks
    return copied, masks


def _unmask_placeholders(problem: str, secret_masks: set[str]) -> str:
    return _PLACEHOLDER_MASK.sub(
        lambda m: "the same secret phone" if m.group(0) in secret_masks else m.group(0), problem
    )


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
