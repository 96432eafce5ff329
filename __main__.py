"""rcs-testers program: read the stack's testers, declare them, export what was registered."""

import json

import pulumi
from pulumi.runtime.config import get_config

from rcs_provider.fleet import FleetConfigError, declare_fleet, parse_fleet

source = f"stacks/Pulumi.{pulumi.get_stack()}.yaml"
raw = get_config(f"{pulumi.get_project()}:agents")  # decrypted; phones become secrets below
try:
    agents = parse_fleet(json.loads(raw) if raw is not None else None, source=source)
except json.JSONDecodeError as err:
    raise pulumi.RunError(f"{source}: agents: is not valid YAML/JSON: {err.msg}") from None
except FleetConfigError as err:
    raise pulumi.RunError(str(err)) from None

pulumi.export("agents", declare_fleet(agents))
