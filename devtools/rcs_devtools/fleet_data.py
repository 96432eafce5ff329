"""Test data: valid phone numbers in several formats and agents blocks for stack files."""

from __future__ import annotations

from typing import Any


def phone(n: int) -> str:
    """The n-th test number, E.164 digits (Indian mobiles 98xxxxxxxx, valid per phonenumbers)."""
    return f"9198{n:08d}"


def formatted(n: int) -> str:
    """The same number as a person would type it: ``+91 98000 00001``."""
    digits = phone(n)
    return f"+{digits[:2]} {digits[2:7]} {digits[7:]}"


def spellings(n: int) -> list[str]:
    """Every way the n-th number could leak: E.164 digits, formatted, national, with ``+``."""
    digits = phone(n)
    return [digits, formatted(n), digits[2:], "+" + digits]


def agents_block(layout: dict[str, list[tuple[str, int]]]) -> list[dict[str, Any]]:
    """``{"48900": [("qa-a", 1), ...]}`` -> the ``rcs-testers:agents`` list for a stack file."""
    return [
        {
            "agent": agent,
            "testers": [{"label": label, "phone": formatted(n)} for label, n in testers],
        }
        for agent, testers in layout.items()
    ]
