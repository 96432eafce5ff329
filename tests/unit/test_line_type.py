"""Line types (rcs_provider._line_type): which numbers can be RCS testers, and where it is checked
(the stack config parser and the provider's check)."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from rcs_provider._config import (
    AgentSpec,
    FleetConfigError,
    TesterSpec,
    fleet_warnings,
    parse_fleet,
)
from rcs_provider._line_type import RcsReach, line_type, line_type_problem, line_type_warning
from rcs_provider._phones import mask_phone, normalize_phone
from rcs_provider.provider import TesterProvider

SRC = "stacks/Pulumi.dev.yaml"

#: Real-world spellings of numbers of each type, from five countries' number plans.
CAN_RECEIVE_RCS = [
    ("IN", "+91 95300 00092", "MOBILE"),
    ("IN", "+91 81234 56789", "MOBILE"),
    ("IN", "+91 74104 10123", "FIXED_LINE_OR_MOBILE"),
    ("US", "+1 415 555 0134", "FIXED_LINE_OR_MOBILE"),
    ("US", "+1 (201) 555-0123", "FIXED_LINE_OR_MOBILE"),
    ("US", "+1 500 234 5678", "PERSONAL_NUMBER"),
    ("GB", "+44 7400 123456", "MOBILE"),
    ("GB", "+44 70 1234 5678", "PERSONAL_NUMBER"),
    ("GB", "+44 56 1234 5678", "VOIP"),
    ("DE", "+49 151 23456789", "MOBILE"),
    ("DE", "+49 700 12345678", "PERSONAL_NUMBER"),
    ("AU", "+61 412 345 678", "MOBILE"),
    ("AU", "+61 14710 1234", "VOIP"),
]
NEVER_RCS = [
    ("IN", "+91 11 2345 6789", "FIXED_LINE", "a fixed-line number"),  # Delhi
    ("IN", "+91 1800 123 4567", "TOLL_FREE", "a toll-free number"),
    ("IN", "+91 1861 123 456 789", "PREMIUM_RATE", "a premium-rate number"),
    ("IN", "+91 1860 345 1234", "SHARED_COST", "a shared-cost number"),
    ("IN", "+91 1409 305 260", "UAN", "a universal access (UAN) number"),
    ("US", "+1 800 555 0199", "TOLL_FREE", "a toll-free number"),
    ("US", "+1 900 234 5678", "PREMIUM_RATE", "a premium-rate number"),
    ("GB", "+44 20 7946 0958", "FIXED_LINE", "a fixed-line number"),  # London
    ("GB", "+44 800 123 4567", "TOLL_FREE", "a toll-free number"),
    ("GB", "+44 90 1234 5678", "PREMIUM_RATE", "a premium-rate number"),
    ("GB", "+44 7640 123456", "PAGER", "a pager number"),
    ("GB", "+44 55 1234 5678", "UAN", "a universal access (UAN) number"),
    ("DE", "+49 30 123456", "FIXED_LINE", "a fixed-line number"),  # Berlin
    ("DE", "+49 800 1234567890", "TOLL_FREE", "a toll-free number"),
    ("DE", "+49 900 1234567", "PREMIUM_RATE", "a premium-rate number"),
    ("DE", "+49 180 12345", "SHARED_COST", "a shared-cost number"),
    ("DE", "+49 164 12345", "PAGER", "a pager number"),
    ("DE", "+49 18500 123456", "UAN", "a universal access (UAN) number"),
    ("DE", "+49 177 99 1234567", "VOICEMAIL", "a voicemail access number"),
    ("AU", "+61 2 1234 5678", "FIXED_LINE", "a fixed-line number"),  # Sydney
    ("AU", "+61 1800 123 456", "TOLL_FREE", "a toll-free number"),
    ("AU", "+61 1900 123 456", "PREMIUM_RATE", "a premium-rate number"),
    ("AU", "+61 1300 123 456", "SHARED_COST", "a shared-cost number"),
    ("AU", "+61 16 3123 4", "PAGER", "a pager number"),
]


def agents_with(*testers: dict[str, object]) -> list[dict[str, object]]:
    return [{"agent": "48900", "testers": list(testers)}]


def problems_of(raw: object) -> list[str]:
    with pytest.raises(FleetConfigError) as caught:
        parse_fleet(raw, source=SRC)
    return caught.value.problems


# -- classification --------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "spelling", "type_name"), CAN_RECEIVE_RCS)
def test_numbers_that_can_receive_rcs_pass(region: str, spelling: str, type_name: str) -> None:
    digits = normalize_phone(spelling)
    assert phonenumbers.region_code_for_number(phonenumbers.parse("+" + digits)) == region
    kind = line_type(digits)
    assert (kind.name, kind.reach) == (type_name, RcsReach.CAN)
    assert line_type_problem(digits) is None
    assert line_type_warning(digits) is None


@pytest.mark.parametrize(("region", "spelling", "type_name", "words"), NEVER_RCS)
def test_numbers_that_can_never_receive_rcs_are_refused_in_words_and_masked(
    region: str, spelling: str, type_name: str, words: str
) -> None:
    digits = normalize_phone(spelling)
    assert phonenumbers.region_code_for_number(phonenumbers.parse("+" + digits)) == region
    assert (line_type(digits).name, line_type(digits).reach) == (type_name, RcsReach.NEVER)
    problem = line_type_problem(digits)
    assert problem == (
        f"phone number {mask_phone(digits)} is {words}, which cannot receive RCS messages: "
        "declare the tester's mobile number, or, if it really is a mobile that phonenumbers' "
        "metadata classifies wrongly, set allowNonMobile: true on it"
    )
    assert digits not in re.sub(r"[^0-9]", "", problem.replace(mask_phone(digits), ""))
    assert line_type_problem(digits, allow_non_mobile=True) is None


def test_every_phonenumbers_type_has_a_verdict() -> None:
    """A new PhoneNumberType in a phonenumbers upgrade must be decided on, not left UNKNOWN."""
    kinds = [k for k in vars(PhoneNumberType).values() if isinstance(k, int)]
    examples = [
        example
        for region in ("IN", "US", "GB", "DE", "AU")
        for kind in kinds
        if kind != PhoneNumberType.UNKNOWN
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    assert len(examples) > 30
    for example in examples:
        digits = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:]
        assert line_type(digits).reach is not RcsReach.UNKNOWN, digits


def test_a_number_outside_the_metadata_is_unknown_and_only_warned_about() -> None:
    digits = "12010550123"  # +1 201 055 0123: no US range starts with 0
    assert line_type(digits).reach is RcsReach.UNKNOWN
    assert line_type_problem(digits) is None
    warning = line_type_warning(digits)
    assert warning is not None and "120XXXXXX23 is a number of unknown type" in warning
    assert "allowNonMobile: true" in warning
    assert line_type_warning(digits, allow_non_mobile=True) is None


def test_fleet_warnings_name_the_path_of_a_phone_of_unknown_type() -> None:
    fleet = (
        AgentSpec("48900", (TesterSpec("qa-alice", "919530000092"),)),
        AgentSpec(
            "20700",
            (
                TesterSpec("qa-alice", "919530000092"),
                TesterSpec("qa-new", "12010550123"),
                TesterSpec("qa-known", "12010550124", allow_non_mobile=True),
            ),
        ),
    )
    [warning] = fleet_warnings(fleet)
    assert warning.startswith("agents[1].testers[1].phone: phone number 120XXXXXX23 is")


# -- the stack config ------------------------------------------------------------------------


def test_every_non_mobile_is_a_problem_with_its_path_beside_other_problems() -> None:
    problems = problems_of(
        [
            {
                "agent": "48900",
                "testers": [
                    {"label": "qa-alice", "phone": "+91 95300 00092"},
                    {"label": "qa-delhi", "phone": "+91 11 2345 6789"},
                    {"label": "qa bad", "phone": "+91 98450 12345"},
                ],
            },
            {"agent": "20700", "testers": [{"label": "qa-800", "phone": "+1 800 555 0199"}]},
        ]
    )
    assert problems == [
        "agents[0].testers[1].phone: phone number 91112XXXXX89 is a fixed-line number, which "
        "cannot receive RCS messages: declare the tester's mobile number, or, if it really is a "
        "mobile that phonenumbers' metadata classifies wrongly, set allowNonMobile: true on it",
        "agents[0].testers[2].label: must be 1-64 characters of letters, digits, '.', '_' or "
        "'-', starting with a letter or digit (no spaces, newlines or control characters)",
        "agents[1].testers[0].phone: phone number 180XXXXXX99 is a toll-free number, which "
        "cannot receive RCS messages: declare the tester's mobile number, or, if it really is a "
        "mobile that phonenumbers' metadata classifies wrongly, set allowNonMobile: true on it",
    ]


def test_allow_non_mobile_accepts_the_number_and_is_kept_for_reviews() -> None:
    [agent] = parse_fleet(
        agents_with(
            {"label": "qa-desk", "phone": "+44 20 7946 0958", "allowNonMobile": True},
            {"label": "qa-alice", "phone": "+91 95300 00092", "allowNonMobile": False},
        ),
        source=SRC,
    )
    assert [(t.label, t.allow_non_mobile) for t in agent.testers] == [
        ("qa-desk", True),
        ("qa-alice", False),
    ]
    assert fleet_warnings([agent]) == []


@pytest.mark.parametrize("value", ["true", "yes", 1, None])
def test_allow_non_mobile_must_be_a_boolean(value: object) -> None:
    problems = problems_of(
        agents_with({"label": "qa-desk", "phone": "+44 20 7946 0958", "allowNonMobile": value})
    )
    kind = "null" if value is None else type(value).__name__
    assert problems[0] == (
        f"agents[0].testers[0].allowNonMobile: must be true or false (unquoted), got {kind}"
    )
    assert "fixed-line" in problems[1], "a refused flag does not let the number through"


def test_a_misspelt_allow_non_mobile_is_an_unknown_key_with_a_suggestion() -> None:
    problems = problems_of(
        agents_with({"label": "qa-desk", "phone": "+44 20 7946 0958", "allowNonMobil": True})
    )
    assert problems[0] == (
        "agents[0].testers[0]: unknown key \"allowNonMobil\": did you mean 'allowNonMobile'?"
    )


# -- the provider's check --------------------------------------------------------------------


def test_provider_check_refuses_a_fixed_line_with_its_type_masked() -> None:
    provider = TesterProvider()
    result = provider.check({}, {"agent_no": "48900", "phoneno": "+91 11 2345 6789", "label": "x"})
    [failure] = result.failures
    assert failure.property == "phoneno"
    assert failure.reason.startswith("phoneno phone number 91112XXXXX89 is a fixed-line number")
    assert "911123456789" not in failure.reason


def test_provider_check_accepts_a_fixed_line_when_allowed() -> None:
    provider = TesterProvider()
    news = {
        "agent_no": "48900",
        "phoneno": "+91 11 2345 6789",
        "label": "qa-desk",
        "allow_non_mobile": True,
    }
    result = provider.check({}, news)
    assert result.failures == []
    assert result.inputs["phoneno"] == "911123456789"


# -- property: mobiles pass ------------------------------------------------------------------

MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
REGIONS_WITH_MOBILES = sorted(
    region
    for region in phonenumbers.SUPPORTED_REGIONS
    if phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE) is not None
)


@st.composite
def mobile_numbers(draw: st.DrawFn) -> str:
    """A number drawn from a region's mobile range in phonenumbers' metadata, as '+CC NSN'."""
    region = draw(st.sampled_from(REGIONS_WITH_MOBILES))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None and metadata.mobile is not None
    pattern = metadata.mobile.national_number_pattern
    lengths = metadata.mobile.possible_length or metadata.general_desc.possible_length
    national = draw(st.from_regex(f"(?:{pattern})", fullmatch=True, alphabet="0123456789"))
    assume(len(national) in lengths)
    number = f"+{metadata.country_code} {national}"
    parsed = phonenumbers.parse(number)
    # Some ranges are shared with a type checked first (e.g. a pager block inside a mobile
    # range): those are not mobiles, whatever pattern they were drawn from.
    assume(phonenumbers.number_type(parsed) in MOBILE_TYPES)
    return number


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
@given(number=mobile_numbers())
def test_every_mobile_number_passes(number: str) -> None:
    [agent] = parse_fleet(agents_with({"label": "qa-mobile", "phone": number}), source=SRC)
    assert line_type_problem(agent.testers[0].phone) is None
    assert fleet_warnings([agent]) == []
