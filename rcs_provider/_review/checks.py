"""Warnings and validation problems of a reviewed stack, worded as preview words them."""

from __future__ import annotations

from . import rules
from .diff import StackReview
from .stack_version import StackVersion

__all__ = ["CEILING_MARGIN", "check_stack"]

#: Warn when an agent's declared testers come this close to Google RBM's ceiling of 200.
CEILING_MARGIN = 20


def check_stack(review: StackReview, head: StackVersion | None) -> None:
    """Fill ``review.warnings`` and ``review.problems`` from the work tree's version."""
    if head is None:
        return
    if head.read_problem is not None:
        review.problems.append(f"{head.source}: {head.read_problem}")
        return
    budget, budget_problem = rules.new_tester_budget(head.config)
    if budget_problem is not None:
        review.problems.append(f"{head.source}: {budget_problem}")
    if rules.secure_value(head.agents_value) is not None:
        review.warnings.append(
            f"{head.source}: {head.agents_key} is encrypted as a whole, so its testers cannot "
            "be compared or checked here. Review with --decrypt, or keep only the phones secret "
            f"(`pulumi config set --secret --path '{head.agents_key}[0].testers[0].phone' ...`)."
        )
        review.problems += [f"{head.source}: {p}" for p in rules.clear_api_key(head.text, head.pod)]
        return
    problems, warnings = rules.preview_problems_and_warnings(
        head.agents_value,
        source=head.source,
        key=head.agents_key,
        text=head.text,
        pod=head.pod,
        allow_clear=head.config.get(rules.allow_clear_phones_key(head.project)),
        phonebook=head.phonebook_value,
    )
    review.problems += [f"{head.source}: {problem}" for problem in problems]
    review.warnings += _budget_warnings(review, budget)
    review.warnings += _ceiling_warnings(review)
    review.warnings += [f"{head.source}: {warning}" for warning in warnings]


def _budget_warnings(review: StackReview, budget: int) -> list[str]:
    warnings = []
    for agent in review.agents:
        invitations = sum(1 for c in agent.changes if c.invites)
        if invitations > budget:
            warnings.append(
                f"agent {agent.agent}: this change sends {invitations} new tester invitations, "
                f"more than {rules.BUDGET_KEY} ({budget}); Google RBM (behind Kaleyra) accepts "
                f"{rules.DEFAULT_NEW_TESTER_BUDGET} per agent per day. Split the change over "
                f"several days, or raise {rules.BUDGET_KEY} if your quota is higher."
            )
    return warnings


def _ceiling_warnings(review: StackReview) -> list[str]:
    ceiling = rules.MAX_TESTERS_PER_AGENT
    return [
        f"agent {agent.agent}: {agent.testers_after} testers declared, close to Google RBM's "
        f"ceiling of {ceiling} per agent; testers removed from the stack still count until "
        "they are removed in the Kaleyra console."
        for agent in review.agents
        if ceiling - CEILING_MARGIN <= agent.testers_after <= ceiling
    ]
