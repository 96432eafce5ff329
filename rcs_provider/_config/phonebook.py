"""The stack's phonebook: each person's phone declared once, agents' testers pointing at people.

Stack config (``stacks/Pulumi.<env>.yaml``)::

    rcs-testers:testers:           # label -> the person's phone (and a note)
      qa-alice:
        phone: { secure: v1:... }  # config set --secret --path 'rcs-testers:testers.qa-alice.phone'
        note: Alice's Pixel 8
    rcs-testers:agents:
      - agent: "48900"
        testers: [qa-alice]        # references by label, beside inline {label, phone} maps

A reference is the same tester as an inline entry with the person's label, phone and note: the
logical name stays ``<agent>-<label>``, so moving a stack between the two forms changes nothing.
:func:`resolve_references` writes every reference out as that inline entry before the agents
are parsed, and reports the phonebook's own problems with their ``testers.<label>`` paths.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .._line_type import ALLOW_NON_MOBILE_KEY, line_type_problem, line_type_warning
from .._phones import PhoneNumberError, mask_phone, normalize_phone, redact_digits, validate_label
from .model import (
    REPORTED_ENTRY,
    AgentSpec,
    fleet_warnings,
    parse_fleet,
    unknown_key_problems,
)
from .phone import checked_phone, type_name

__all__ = [
    "PERSON_KEYS",
    "PHONEBOOK_NAME",
    "Person",
    "Resolution",
    "StackTesters",
    "parse_phonebook",
    "parse_stack_testers",
    "phonebook_path",
    "resolve_references",
]

#: The phonebook's config name, under the project's namespace (``rcs-testers:testers``).
PHONEBOOK_NAME = "testers"
PHONEBOOK_KEY = f"rcs-testers:{PHONEBOOK_NAME}"
PERSON_KEYS = ("phone", "note", ALLOW_NON_MOBILE_KEY)
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Person:
    """One phonebook entry: a label, a normalised phone (E.164 digits) and an optional note."""

    label: str
    phone: str = field(repr=False)
    note: str | None = None
    allow_non_mobile: bool = False

    def as_tester(self) -> dict[str, Any]:
        """The inline tester entry a reference to this person stands for."""
        entry: dict[str, Any] = {"label": self.label, "phone": self.phone}
        if self.note is not None:
            entry["note"] = self.note
        if self.allow_non_mobile:
            entry[ALLOW_NON_MOBILE_KEY] = True
        return entry

    @property
    def masked(self) -> str:
        return mask_phone(self.phone)


@dataclass
class Resolution:
    """The agents with every reference written out, and what was found on the way.

    ``references`` maps ``(agent index, tester index)`` to the label of each resolved
    reference, so that a review can say a tester's phone comes from the phonebook."""

    agents: object
    problems: list[str]
    warnings: list[str]
    references: dict[tuple[int, int], str]


def phonebook_path(label: str) -> str:
    """The config path of a phonebook entry, as ``pulumi config set --path`` writes it
    (``testers.qa-alice``, or ``testers["qa.alice"]``); phone-like digits are masked."""
    shown = redact_digits(label)
    if shown == label and _PLAIN_LABEL.fullmatch(label) and not label[0].isdigit():
        return f"{PHONEBOOK_NAME}.{label}"
    return f"{PHONEBOOK_NAME}[{json.dumps(shown)}]"


def parse_phonebook(
    raw: object, *, phonebook_key: str = PHONEBOOK_KEY
) -> tuple[dict[str, Person], list[str]]:
    """Validate ``rcs-testers:testers`` (the config ``phonebook_key``): the people by label,
    and every problem by its path.

    Labels and phones follow the rules of inline testers; two labels with the same number are
    one person declared twice, which is refused (agents should point at one of them)."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [
            f"{PHONEBOOK_NAME}: must be a map of label -> {{phone, note?}}, got {type_name(raw)}"
        ]
    people: dict[str, Person] = {}
    problems: list[str] = []
    labels: dict[str, str] = {}  # lower-cased label -> the label first seen
    phones: dict[str, str] = {}  # phone -> the path of the entry that holds it
    for key, node in raw.items():
        label = str(key)
        path = phonebook_path(label)
        try:
            validate_label(label)
        except ValueError as err:
            problems.append(f"{path}: label {err}")
            continue
        if label.lower() in labels:
            problems.append(
                f"{path}: same label as {phonebook_path(labels[label.lower()])} apart from "
                "case: one label per person"
            )
            continue
        labels[label.lower()] = label
        person = _parse_person(label, node, path, problems, phonebook_key)
        if person is None:
            continue
        if person.phone in phones:
            problems.append(
                f"{path}.phone: {mask_phone(person.phone)} is also the phone of "
                f"{phones[person.phone]}: one person, one entry; point the agents at one label"
            )
            continue
        phones[person.phone] = path
        people[label] = person
    return people, problems


def _parse_person(
    label: str, node: object, path: str, problems: list[str], phonebook_key: str
) -> Person | None:
    if not isinstance(node, dict):
        problems.append(
            f"{path}: must be a map with phone (and optionally note), got {type_name(node)}: "
            f"write it as {label}: {{phone: ...}}"
        )
        return None
    problems += unknown_key_problems(node, PERSON_KEYS, path)
    note = node.get("note")
    if note is not None and not isinstance(note, str):
        problems.append(f"{path}.note: must be a string, got {type_name(note)}")
        note = None
    allow = node.get(ALLOW_NON_MOBILE_KEY, False)
    if not isinstance(allow, bool):
        problems.append(
            f"{path}.{ALLOW_NON_MOBILE_KEY}: must be true or false (unquoted), "
            f"got {type_name(allow)}"
        )
        allow = False
    namespace = phonebook_key.split(":", 1)[0]
    phone = checked_phone(node, path, problems, config_path=f"{namespace}:{path}.phone")
    if phone is None:
        return None
    unreachable = line_type_problem(phone, allow_non_mobile=allow)
    if unreachable is not None:
        problems.append(f"{path}.phone: {unreachable}")
        return None
    return Person(label, phone, note, allow)


def resolve_references(
    agents_raw: object, phonebook_raw: object, *, phonebook_key: str = PHONEBOOK_KEY
) -> Resolution:
    """Write every label reference in the agents' testers lists out as its inline entry.
    ``phonebook_key`` is the phonebook's full config key, as messages name it.

    Problems: the phonebook's own, references to unknown or invalid people (with a "did you
    mean"), entries that are neither a label nor a map, and inline entries that reuse a
    phonebook label with another phone. A person no agent points at is a warning. Entries
    whose problem is reported here become :data:`REPORTED_ENTRY`, so parsing the agents
    reports nothing more about them; everything else is left for that parse."""
    people, problems = parse_phonebook(phonebook_raw, phonebook_key=phonebook_key)
    invalid = _declared_labels(phonebook_raw) - set(people)
    warnings = [
        f"{phonebook_path(p.label)}.phone: {warning}"
        for p in people.values()
        if (warning := line_type_warning(p.phone, allow_non_mobile=p.allow_non_mobile))
    ]
    references: dict[tuple[int, int], str] = {}
    if not isinstance(agents_raw, list):
        return Resolution(agents_raw, problems, warnings, references)
    agents: list[object] = []
    for i, agent in enumerate(agents_raw):
        testers = agent.get("testers") if isinstance(agent, dict) else None
        if not isinstance(testers, list):
            agents.append(agent)
            continue
        resolved: list[object] = []
        for j, entry in enumerate(testers):
            path = f"agents[{i}].testers[{j}]"
            if isinstance(entry, dict):
                problems += _inline_conflict(entry, people, path, phonebook_key)
                resolved.append(entry)
            elif isinstance(entry, str) and entry in people:
                references[(i, j)] = entry
                resolved.append(people[entry].as_tester())
            else:
                problems.append(_unresolved(entry, people, invalid, path, phonebook_key))
                resolved.append(REPORTED_ENTRY)
        agents.append({**agent, "testers": resolved})
    referenced = set(references.values())
    namespace = phonebook_key.split(":", 1)[0]
    warnings += [
        f"{phonebook_path(label)}: referenced by no agent: add `- {label}` to the testers of "
        "the agents this person tests, or remove the entry with "
        f"`pulumi config rm --path '{namespace}:{phonebook_path(label)}'`"
        for label in people
        if label not in referenced
    ]
    return Resolution(agents, problems, warnings, references)


def _declared_labels(phonebook_raw: object) -> set[str]:
    return {str(k) for k in phonebook_raw} if isinstance(phonebook_raw, dict) else set()


def _unresolved(
    entry: object, people: Mapping[str, Person], invalid: set[str], path: str, phonebook_key: str
) -> str:
    """The problem of a testers-list entry that is neither a map nor a known person's label."""
    if not isinstance(entry, str):
        return (
            f"{path}: must be a label of {PHONEBOOK_NAME} (a string) or a map with label and "
            f"phone, got {type_name(entry)}"
        )
    if entry in invalid:
        return f"{path}: refers to {phonebook_path(entry)}, which is invalid (see its problem)"
    try:
        validate_label(entry)
    except ValueError as err:
        shown = json.dumps(redact_digits(entry))[:40]
        return f"{path}: {shown} is not a label of {PHONEBOOK_NAME}: a label {err}"
    hint = [p for p in people if p.lower() == entry.lower()] or difflib.get_close_matches(
        entry, list(people), n=1, cutoff=0.6
    )
    fix = (
        f"did you mean '{hint[0]}'?"
        if hint
        else f"declare it under {phonebook_key} ({entry}: {{phone: ...}}) or write "
        "the tester inline as {label, phone}"
    )
    return f"{path}: unknown tester {entry!r}: not in {phonebook_key}; {fix}"


def _inline_conflict(
    entry: Mapping[str, Any], people: Mapping[str, Person], path: str, phonebook_key: str
) -> list[str]:
    """An inline tester that takes a phonebook label must have that person's phone."""
    label = entry.get("label")
    person = people.get(label) if isinstance(label, str) else None
    if person is None or not isinstance(entry.get("phone"), str | int):
        return []
    try:
        phone = normalize_phone(entry["phone"])
    except PhoneNumberError:
        return []  # reported by the parse of the agents
    if phone == person.phone:
        return []
    return [
        f"{path}.phone: {mask_phone(phone)} differs from the phone of {label!r} in "
        f"{phonebook_key} ({person.masked}): one label, one person; refer to the "
        f"phonebook with `- {label}`, or give this tester another label"
    ]


@dataclass(frozen=True)
class StackTesters:
    """A stack's valid testers by agent, and the warnings to show about them."""

    agents: tuple[AgentSpec, ...]
    warnings: tuple[str, ...]


def parse_stack_testers(
    agents_raw: object,
    phonebook_raw: object,
    *,
    source: str,
    extra_problems: Sequence[str] = (),
    key: str = "rcs-testers:agents",
) -> StackTesters:
    """Validate ``rcs-testers:agents`` (``key``) with the phonebook ``rcs-testers:testers``
    (or None; ``<namespace>:testers`` beside ``<namespace>:agents``), or raise FleetConfigError
    listing every problem of both (``extra_problems`` first)."""
    namespace = key.split(":", 1)[0]
    resolution = resolve_references(
        agents_raw, phonebook_raw, phonebook_key=f"{namespace}:{PHONEBOOK_NAME}"
    )
    agents = parse_fleet(
        resolution.agents,
        source=source,
        key=key,
        extra_problems=[*extra_problems, *resolution.problems],
    )
    marked = tuple(
        replace(
            agent,
            testers=tuple(
                replace(t, from_phonebook=(i, j) in resolution.references)
                for j, t in enumerate(agent.testers)
            ),
        )
        for i, agent in enumerate(agents)
    )
    return StackTesters(marked, (*fleet_warnings(marked), *resolution.warnings))
