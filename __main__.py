"""rcs-testers program: declare the stack's testers (``rcs-testers:agents``) and export them,
as ``agents``: ``{agent: {label: {phone (masked), registration_id, status}}}``."""

import pulumi

from rcs_provider import declare_testers

pulumi.export("agents", declare_testers(pulumi.Config(), by_label=True))
