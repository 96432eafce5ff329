"""rcs-testers program: declare the stack's testers (``rcs-testers:agents``) and export them."""

import pulumi

from rcs_provider import declare_testers

pulumi.export("agents", declare_testers(pulumi.Config()))
