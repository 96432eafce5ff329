"""Properties of the diff over generated stack versions (no git: the model alone)."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rcs_devtools.fleet_data import formatted, phone
from rcs_devtools.git_repo import secret
from rcs_provider._review.diff import Review, diff_stack
from rcs_provider._review.render import FORMATS, render
from rcs_provider._review.stack_version import read_stack_version

NUMBERS = range(1, 7)
AGENTS = ["48900", "20700", "31500"]
LABELS = ["qa-a", "qa-b", "qa-c", "qa-d"]

tester = st.fixed_dictionaries(
    {
        "label": st.sampled_from(LABELS),
        "phone": st.one_of(
            st.sampled_from(NUMBERS).map(formatted),
            st.sampled_from(NUMBERS).map(lambda n: secret(str(n))),
        ),
    },
    optional={"note": st.sampled_from(["Pixel", "iPhone"])},
)
agent = st.fixed_dictionaries(
    {"agent": st.sampled_from(AGENTS), "testers": st.lists(tester, min_size=1, max_size=4)}
)
agents = st.lists(agent, max_size=3)


def version(value: list[dict[str, Any]]) -> Any:
    text = json.dumps({"config": {"kaleyra:pod": "in", "rcs-testers:agents": value}})
    return read_stack_version("prod", "stacks/Pulumi.prod.yaml", text, project="rcs-testers")


def identities(value: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(a.agent, label) for a in version(value).agents.values() for label in a.testers}


@settings(max_examples=150)
@given(before=agents, after=agents)
def test_every_identity_that_comes_or_goes_is_reported(before: Any, after: Any) -> None:
    review = diff_stack(version(before), version(after))
    gone = identities(before) - identities(after)
    came = identities(after) - identities(before)
    reported_came = {
        (c.agent, c.label) for c in review.changes if c.kind.value in ("added", "renamed", "moved")
    }
    reported_gone = {
        (c.from_agent or c.agent, c.from_label or c.label)
        for c in review.changes
        if c.kind.value in ("removed", "renamed", "moved")
    }
    assert reported_came == came
    assert reported_gone == gone


@settings(max_examples=60)
@given(value=agents)
def test_an_unchanged_stack_has_no_change(value: Any) -> None:
    assert diff_stack(version(value), version(value)).changes == []


@settings(max_examples=60)
@given(before=agents, after=agents)
def test_no_output_holds_a_full_number_or_a_ciphertext(before: Any, after: Any) -> None:
    review = Review("main", "0" * 40, [diff_stack(version(before), version(after))])
    for output_format in FORMATS:
        output = render(review, output_format)
        assert "v1:" not in output
        runs = [re.sub(r"[^0-9]", "", run) for run in re.findall(r"[0-9][0-9 ().+-]*", output)]
        for n in NUMBERS:
            assert not any(phone(n)[2:] in run for run in runs)
