"""The guardrails pack (policy/) runs in its own virtualenv and keeps its own copies of the
tester type, the ceiling of testers per agent and the phone mask: each is pinned here to the
package's own, the mask on a corpus of numbers. The pack's pure part (policy/rules.py) needs
no ``pulumi_policy``; it is loaded from its file, as the pack's runner loads it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rcs_provider._phones import MAX_TESTERS_PER_AGENT, mask_phone
from rcs_provider._renames import RCS_TESTER_TYPE
from rcs_provider._resource import RcsTester

PACK_RULES = Path(__file__).resolve().parents[2] / "policy" / "rules.py"


def load_pack_rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rcs_policy_pack_rules", PACK_RULES)
    assert spec is not None and spec.loader is not None, f"cannot load {PACK_RULES}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pack = load_pack_rules()

#: Digits as people and Kaleyra write them, separators and non-ASCII decimal digits included
#: (both masks count any Unicode decimal digit).
DIGITS = "0123456789"
#: Arabic-Indic three and fullwidth nine.
OTHER_DIGITS = ["\u0663", "\uff19"]
NUMBER_TEXT = st.text(alphabet=st.sampled_from([*DIGITS, " ", "+", "-", "(", ")", *OTHER_DIGITS]))


@given(st.text(alphabet=DIGITS, max_size=20) | NUMBER_TEXT)
@example("919530000092")
@example("+1 (202) 555-0143")
@example("")
@example("4")
@example("12345678901")
def test_the_pack_masks_a_phone_as_the_package_does(number: str) -> None:
    assert pack.mask(number) == mask_phone(number)


@pytest.mark.parametrize("length", range(25))
def test_the_pack_masks_every_length_as_the_package_does(length: int) -> None:
    number = "".join(DIGITS[i % 10] for i in range(1, length + 1))
    assert pack.mask(number) == mask_phone(number)


def test_the_pack_ceiling_is_the_package_ceiling() -> None:
    assert pack.MAX_TESTERS == MAX_TESTERS_PER_AGENT
    assert pack.maximum_of({}) == MAX_TESTERS_PER_AGENT
    assert pack.maximum_of({"maximum": float(MAX_TESTERS_PER_AGENT)}) == MAX_TESTERS_PER_AGENT
    with pytest.raises(pack.PackConfigError, match=f"from 1 to {MAX_TESTERS_PER_AGENT}"):
        pack.maximum_of({"maximum": MAX_TESTERS_PER_AGENT + 1})


def test_the_pack_checks_the_type_the_engine_gives_the_package_testers() -> None:
    engine_type = f"pulumi-python:{RcsTester._resource_type_name}"
    assert pack.TESTER_TYPE == RCS_TESTER_TYPE == engine_type
