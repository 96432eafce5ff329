"""rcs-testers program: read the stack's testers, declare them, export what was registered."""

import json
from pathlib import Path

import pulumi
from pulumi.runtime.config import get_config, is_config_secret

from rcs_provider.components import declare_fleet
from rcs_provider.config import (
    FleetConfigError,
    clear_phones_warning,
    parse_fleet,
    yaml_number_problems,
)

source = f"stacks/Pulumi.{pulumi.get_stack()}.yaml"
key = f"{pulumi.get_project()}:agents"
raw = get_config(key)  # decrypted; phones become secrets below
try:
    agents = parse_fleet(
        json.loads(raw) if raw is not None else None,
        source=source,
        extra_problems=yaml_number_problems(Path(source), key),
    )
except json.JSONDecodeError as err:
    raise pulumi.RunError(f"{source}: agents: is not valid YAML/JSON: {err.msg}") from None
except FleetConfigError as err:
    raise pulumi.RunError(str(err)) from None

warning = clear_phones_warning(
    source, key, secret=is_config_secret(key), pod=pulumi.Config("kaleyra").get("pod")
)
if warning:
    pulumi.log.warn(warning)
pulumi.export("agents", declare_fleet(agents))
