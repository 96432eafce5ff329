"""What only the stack file's text shows: numbers that YAML changed before the program saw
them, and phones or the api-key written in clear rather than as ``secure:`` values."""

from __future__ import annotations

import re

import yaml

from .._kaleyra.settings import CONFIG_KEYS
from .._phones import mask_phone, normalize_phone, redact_digits
from .model import clear_phone_problems
from .phone import is_placeholder_phone
from .phonebook import PHONEBOOK_NAME, phonebook_path

__all__ = [
    "clear_api_key_problems",
    "clear_phone_paths",
    "compose_stack_text",
    "phonebook_clear_phones",
    "phonebook_yaml_number_problems",
    "stack_file_problems",
    "yaml_number_problems",
]


def compose_stack_text(text: str | None) -> yaml.Node | None:
    """The stack file's YAML node tree, which keeps what decoding loses (quotes, ``secure:``
    values as written). None for no text, or text that is not plain YAML (the engine reports
    those), which every reader below takes as showing no problem."""
    if text is None:
        return None
    try:
        return yaml.compose(text)
    except yaml.YAMLError:
        return None


def yaml_number_problems(document: yaml.Node | None, key: str) -> list[str]:
    """Unquoted agent numbers and phones that YAML reads as a different number.

    The engine hands the program decoded values: ``agent: 04890`` arrives as ``4890`` and
    ``agent: 0xBEEF`` as ``48879``. Only the stack file's text shows it, so it is read here.
    """
    agents = _agents_node(document, key)
    if agents is None:
        return []
    problems = []
    for i, agent in enumerate(agents.value):
        problems += _plain_number_problem(_mapping_value(agent, "agent"), f"agents[{i}].agent")
        testers = _mapping_value(agent, "testers")
        for j, tester in enumerate(testers.value if isinstance(testers, yaml.SequenceNode) else []):
            node = _mapping_value(tester, "phone")
            problems += _plain_number_problem(node, f"agents[{i}].testers[{j}].phone")
    return problems


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v  # type: ignore[no-any-return]
    return None


#: Unquoted scalars that YAML 1.1 or 1.2 reads as a number other than their digits:
#: leading zeros, 0x/0o/0b prefixes, decimals and exponents, digit groups with underscores.
_NUMBER_IN_DISGUISE = re.compile(
    r"[-+]?(0[0-9_]+|0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+"
    r"|[0-9][0-9_]*\.[0-9_]*([eE][-+]?[0-9]+)?|\.[0-9_]+([eE][-+]?[0-9]+)?"
    r"|[0-9][0-9_]*[eE][-+]?[0-9]+|[0-9]+_[0-9_]*)"
)


def _plain_number_problem(node: yaml.Node | None, path: str) -> list[str]:
    if not isinstance(node, yaml.ScalarNode) or node.style is not None:
        return []
    text = str(node.value).strip()
    if not _NUMBER_IN_DISGUISE.fullmatch(text):
        return []
    shown = redact_digits(text)
    return [
        f"{path}: written without quotes as {shown}, which YAML may read as a different "
        f'number: quote it ("{shown}")'
    ]


def clear_phone_paths(document: yaml.Node | None, key: str) -> list[str]:
    """Config paths (``agents[i].testers[j].phone``) of the phones the stack file holds in
    clear, i.e. not as the ``secure:`` value that ``pulumi config set --secret`` writes.

    Decided per phone from the file itself: the engine only says whether any part of a key is
    secret, and one secret phone must not hide the clear ones beside it."""
    agents = _agents_node(document, key)
    paths = []
    for i, agent in enumerate(agents.value if agents is not None else []):
        testers = _mapping_value(agent, "testers")
        for j, tester in enumerate(testers.value if isinstance(testers, yaml.SequenceNode) else []):
            if isinstance(_mapping_value(tester, "phone"), yaml.ScalarNode):
                paths.append(f"agents[{i}].testers[{j}].phone")
    return paths


def _agents_node(document: yaml.Node | None, key: str) -> yaml.SequenceNode | None:
    agents = _mapping_value(_mapping_value(document, "config"), key)
    return agents if isinstance(agents, yaml.SequenceNode) else None


def phonebook_yaml_number_problems(document: yaml.Node | None, key: str) -> list[str]:
    """Phonebook phones written without quotes that YAML reads as a different number."""
    problems = []
    for path, node in _phone_nodes(document, key):
        problems += _plain_number_problem(node, path)
    return problems


def phonebook_clear_phones(
    document: yaml.Node | None, key: str, phonebook_raw: object
) -> dict[str, str]:
    """The phonebook's phones written in clear in the stack file: path -> masked phone."""
    people = phonebook_raw if isinstance(phonebook_raw, dict) else {}
    clear = {}
    for path, node in _phone_nodes(document, key):
        if isinstance(node, yaml.ScalarNode):
            label = next((str(k) for k in people if f"{phonebook_path(str(k))}.phone" == path), "")
            if not _is_placeholder_entry(people.get(label)):  # the model names its command
                clear[path] = _masked_phone_of(people.get(label))
    return clear


def _is_placeholder_entry(entry: object) -> bool:
    phone = entry.get("phone") if isinstance(entry, dict) else None
    return isinstance(phone, str) and is_placeholder_phone(phone)


def _masked_phone_of(entry: object) -> str:
    try:
        return mask_phone(normalize_phone(entry["phone"]))  # type: ignore[index]
    except (LookupError, TypeError, ValueError):
        return "an invalid number"


def _phone_nodes(document: yaml.Node | None, key: str) -> list[tuple[str, yaml.Node]]:
    """``(testers.<label>.phone, its YAML node)`` for each phonebook entry of the stack file."""
    phonebook = _mapping_value(_mapping_value(document, "config"), key)
    if not isinstance(phonebook, yaml.MappingNode):
        return []
    nodes = []
    for label, entry in phonebook.value:
        phone = _mapping_value(entry, "phone")
        if isinstance(label, yaml.ScalarNode) and phone is not None:
            nodes.append((f"{phonebook_path(str(label.value))}.phone", phone))
    return nodes


API_KEY = CONFIG_KEYS["api_key"]
#: How ``pulumi config set --secret`` writes the api-key; the key itself is never shown.
SET_API_KEY_COMMAND = f"pulumi config set --secret {API_KEY} <key>"


def clear_api_key_problems(document: yaml.Node | None) -> list[str]:
    """``kaleyra:apiKey`` written in clear in the stack file (not a ``secure:`` value).

    The key would sit in git and, as part of the stack config, in the state and every history
    file of the backend. Read from the file: the engine hands the program the decrypted value
    either way. An empty value yields nothing."""
    node = _mapping_value(_mapping_value(document, "config"), API_KEY)
    if (
        not isinstance(node, yaml.ScalarNode)
        or node.tag.endswith(":null")
        or not str(node.value).strip()
    ):
        return []
    return [
        f"{API_KEY}: is written in clear; outside the sandbox the api-key must be a secret (the "
        "stack file sits in git, and the engine stores the stack config in the state): run "
        f"`{SET_API_KEY_COMMAND}`, and rotate the key if the file was ever committed"
    ]


def stack_file_problems(
    stack_text: str | None,
    key: str,
    agents_raw: object,
    phonebook_raw: object,
    *,
    outside_sandbox: bool,
    allow_clear_phones: bool,
) -> tuple[list[str], str | None]:
    """What only the stack file's text shows about the fleet under ``key`` and its phonebook,
    as ``pulumi preview`` and the review both report it: an api-key written in clear, numbers
    YAML changed, then phones written in clear (problems, or with ``allow_clear_phones`` one
    warning, returned second).

    Clear secrets are checked ``outside_sandbox`` only: the sandbox pod's numbers are not
    personal data and its key is the public demo key. ``allow_clear_phones`` never covers the
    api-key. ``stack_text`` is the stack file's text; None (no file) shows no problem."""
    document = compose_stack_text(stack_text)
    phonebook_key = f"{key.split(':', 1)[0]}:{PHONEBOOK_NAME}"
    numbers = [
        *yaml_number_problems(document, key),
        *phonebook_yaml_number_problems(document, phonebook_key),
    ]
    api_key = clear_api_key_problems(document) if outside_sandbox else []
    in_phonebook = (
        phonebook_clear_phones(document, phonebook_key, phonebook_raw) if outside_sandbox else {}
    )
    inline = clear_phone_paths(document, key) if outside_sandbox else []
    clear, warning = clear_phone_problems(
        [*inline, *in_phonebook],
        agents_raw,
        key=key,
        allowed=allow_clear_phones,
        masked=in_phonebook,
    )
    return [*api_key, *numbers, *clear], warning
