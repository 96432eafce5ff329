"""rcs-testers program: read the stack's testers, declare them, export what was registered."""

import json
import os
from pathlib import Path

import pulumi
from pulumi.runtime.config import get_config

from rcs_provider.checkpoints import skip_checkpoints_hint
from rcs_provider.components import declare_fleet
from rcs_provider.config import (
    ALLOW_CLEAR_PHONES_KEY,
    FleetConfigError,
    clear_phone_paths,
    clear_phone_problems,
    parse_fleet,
    yaml_number_problems,
)
from rcs_provider.kaleyra.settings import SANDBOX_POD

source = f"stacks/Pulumi.{pulumi.get_stack()}.yaml"
key = f"{pulumi.get_project()}:agents"
raw = get_config(key)  # decrypted; phones become secrets below
try:
    decoded = json.loads(raw) if raw is not None else None
except json.JSONDecodeError as err:
    raise pulumi.RunError(f"{source}: agents: is not valid YAML/JSON: {err.msg}") from None

on_sandbox = pulumi.Config("kaleyra").get("pod") == SANDBOX_POD
clear_problems, clear_warning = clear_phone_problems(
    [] if on_sandbox else clear_phone_paths(Path(source), key),
    decoded,
    key=key,
    allowed=bool(pulumi.Config().get_bool(ALLOW_CLEAR_PHONES_KEY)),
)
try:
    agents = parse_fleet(
        decoded,
        source=source,
        extra_problems=[*yaml_number_problems(Path(source), key), *clear_problems],
    )
except FleetConfigError as err:
    raise pulumi.RunError(str(err)) from None

if clear_warning:
    pulumi.log.warn(f"{source}: {clear_warning}")
hint = skip_checkpoints_hint(sum(len(spec.testers) for spec in agents), os.environ)
if hint and pulumi.runtime.is_dry_run():
    pulumi.log.info(hint)
pulumi.export("agents", declare_fleet(agents))
