"""One version of a stack file, read without the engine: its testers by (agent, label).

Secret phones stay encrypted and are identified by their ciphertext; clear phones by their
normalised digits. A reference to the stack's phonebook (``rcs-testers:testers``) reads as the
person's entry, so moving a stack between references and inline testers changes nothing. The
reading is lenient, so an invalid stack still shows what it changes; whether it is valid is
:func:`rules.preview_problems_and_warnings`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from . import rules

__all__ = ["INVALID", "DeclaredAgent", "Phone", "StackVersion", "TesterEntry", "read_stack_version"]

POD_KEY = "kaleyra:pod"
#: How a phone that the program would refuse is shown (it was never registered).
INVALID = "invalid"


@dataclass(frozen=True)
class Phone:
    """A tester's phone as the review compares and shows it: never the number in full."""

    identity: str = field(repr=False)
    shown: str
    secret: bool

    @classmethod
    def of(cls, value: object) -> Phone:
        ciphertext = rules.secure_value(value)
        if ciphertext is not None:
            return cls(f"secure:{ciphertext}", "secret", True)
        digits = rules.phone_digits(value)
        if digits is None:
            return cls(f"invalid:{value!r}", INVALID, False)
        return cls(f"digits:{digits}", rules.mask_phone(digits), False)


@dataclass(frozen=True)
class TesterEntry:
    """One declared tester of one agent."""

    label: str
    phone: Phone
    note: str | None
    #: Declared by a reference to the phonebook: its phone is the person's entry there.
    from_phonebook: bool = False
    #: ``allowNonMobile: true``: the phone is accepted whatever its line type.
    allow_non_mobile: bool = False


@dataclass(frozen=True)
class DeclaredAgent:
    """One agent's testers by label, in declaration order."""

    agent: str
    name: str | None
    testers: dict[str, TesterEntry]


@dataclass(frozen=True)
class StackVersion:
    """A stack file at the base or in the work tree."""

    stack: str
    source: str
    text: str
    config: dict[str, Any]
    agents_key: str
    agents_value: object
    agents: dict[str, DeclaredAgent]
    read_problem: str | None = None
    phonebook_value: object = None

    @property
    def phonebook_key(self) -> str:
        return f"{self.project}:{rules.PHONEBOOK_NAME}"

    @property
    def pod(self) -> str | None:
        pod = self.config.get(POD_KEY)
        return pod if isinstance(pod, str) else None

    @property
    def project(self) -> str:
        return self.agents_key.split(":", 1)[0]


def read_stack_version(
    stack: str,
    source: str,
    text: str,
    *,
    project: str,
    decrypted: tuple[object, object] | None = None,
) -> StackVersion:
    """Read a stack file's text. ``decrypted``, when given, is the engine's decrypted
    ``<project>:agents`` and phonebook values, compared instead of the file's ciphertexts."""
    key = f"{project}:agents"
    config, problem = _config_of(text)
    phonebook_key = f"{project}:{rules.PHONEBOOK_NAME}"
    value, phonebook = (
        (config.get(key), config.get(phonebook_key)) if decrypted is None else decrypted
    )
    return StackVersion(
        stack=stack,
        source=source,
        text=text,
        config=config,
        agents_key=key,
        agents_value=value,
        agents=_declared_agents(value, phonebook),
        read_problem=problem,
        phonebook_value=phonebook,
    )


def _config_of(text: str) -> tuple[dict[str, Any], str | None]:
    try:
        root = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        what = rules.redact_digits(str(getattr(err, "problem", None) or "unreadable"))
        return {}, f"is not valid YAML{where}: {what}"
    if root is None:
        return {}, None
    if not isinstance(root, dict):
        return {}, "is not a Pulumi stack file: expected a map with a `config:` section"
    config = root.get("config") or {}
    if not isinstance(config, dict):
        return {}, "config: must be a map of settings"
    return config, None


def _declared_agents(value: object, phonebook: object) -> dict[str, DeclaredAgent]:
    people = phonebook if isinstance(phonebook, dict) else {}
    declared: dict[str, DeclaredAgent] = {}
    for node in _list(value):
        if not isinstance(node, dict):
            continue
        agent = rules.agent_number(node.get("agent"))
        if agent is None or agent in declared:
            continue
        name = node.get("name")
        testers: dict[str, TesterEntry] = {}
        for entry in _list(node.get("testers")):
            tester = _written_out(entry, people)
            if tester is None:
                continue
            label = tester.get("label")
            if not isinstance(label, str) or not label or label in testers:
                continue
            note = tester.get("note")
            testers[label] = TesterEntry(
                label=rules.redact_digits(label),
                phone=Phone.of(tester.get("phone")),
                note=note if isinstance(note, str) else None,
                from_phonebook=not isinstance(entry, dict),
                allow_non_mobile=tester.get(rules.ALLOW_NON_MOBILE_KEY) is True,
            )
        shown_name = rules.redact_digits(name) if isinstance(name, str) else None
        declared[agent] = DeclaredAgent(agent, shown_name, testers)
    return declared


def _written_out(entry: object, people: dict[Any, Any]) -> dict[str, Any] | None:
    """A testers-list entry as an inline tester: a reference to a phonebook entry becomes
    that person's label, phone (still encrypted if secret), note and allowNonMobile."""
    if isinstance(entry, dict):
        return entry
    person = people.get(entry) if isinstance(entry, str) else None
    if not isinstance(person, dict):
        return None  # an unknown reference: a problem of the validation, not a tester
    return {**person, "label": entry}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
