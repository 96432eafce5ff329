"""platform-infra: a Pulumi program of its own (queues, DNS, ...) that also declares the RCS
testers of its messaging agents, with rcs-testers installed as a library."""

import pulumi

from rcs_provider import RcsTester, RcsTesterArgs, declare_testers


class MessagingPlatform(pulumi.ComponentResource):
    """Stands for what the program already declares: a plain component of its own."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:index:MessagingPlatform", name, None, opts)
        self.outbound_queue = f"{pulumi.get_stack()}-{name}-outbound"
        self.register_outputs({"outbound_queue": self.outbound_queue})


config = pulumi.Config()  # platform-infra:*
platform = MessagingPlatform("rcs")

# Two testers declared directly, as children of the program's own component.
oncall_agent = config.require("oncallAgent")
oncall = {
    label: RcsTester(
        f"{oncall_agent}-{label}",
        RcsTesterArgs(agent_no=oncall_agent, phoneno=config.require_secret(key), label=label),
        pulumi.ResourceOptions(parent=platform),
    )
    for label, key in (
        ("oncall-primary", "primaryOncallPhone"),
        ("oncall-secondary", "secondaryOncallPhone"),
    )
}

# A small fleet from this program's own config namespace: `qa:agents`, the same shape as
# rcs-testers' `rcs-testers:agents`.
qa_testers = declare_testers(pulumi.Config("qa"))

pulumi.export("outboundQueue", platform.outbound_queue)
pulumi.export("oncall", {label: t.registration_id for label, t in oncall.items()})
pulumi.export("qaTesters", qa_testers)
