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
    PHONEBOOK_NAME,
    FleetConfigError,
    clear_phone_paths,
    clear_phone_problems,
    parse_stack_testers,
    phonebook_clear_phones,
    phonebook_yaml_number_problems,
    yaml_number_problems,
)
from rcs_provider.config_size import CONFIG_VAR, config_size_warning
from rcs_provider.kaleyra.settings import SANDBOX_POD

source = f"stacks/Pulumi.{pulumi.get_stack()}.yaml"
key = f"{pulumi.get_project()}:agents"
phonebook_key = f"{pulumi.get_project()}:{PHONEBOOK_NAME}"
size_warning = config_size_warning(os.environ.get(CONFIG_VAR), source=source)
if size_warning:
    pulumi.log.warn(size_warning)
decoded = {}
for name in (key, phonebook_key):
    raw = get_config(name)  # decrypted; phones become secrets below
    try:
        decoded[name] = json.loads(raw) if raw is not None else None
    except json.JSONDecodeError as err:
        short = name.split(":", 1)[1]
        raise pulumi.RunError(f"{source}: {short}: is not valid YAML/JSON: {err.msg}") from None

on_sandbox = pulumi.Config("kaleyra").get("pod") == SANDBOX_POD
clear_in_phonebook = (
    {}
    if on_sandbox
    else phonebook_clear_phones(Path(source), phonebook_key, decoded[phonebook_key])
)
clear_problems, clear_warning = clear_phone_problems(
    [*([] if on_sandbox else clear_phone_paths(Path(source), key)), *clear_in_phonebook],
    decoded[key],
    key=key,
    allowed=bool(pulumi.Config().get_bool(ALLOW_CLEAR_PHONES_KEY)),
    masked=clear_in_phonebook,
)
try:
    testers = parse_stack_testers(
        decoded[key],
        decoded[phonebook_key],
        source=source,
        extra_problems=[
            *yaml_number_problems(Path(source), key),
            *phonebook_yaml_number_problems(Path(source), phonebook_key),
            *clear_problems,
        ],
    )
except FleetConfigError as err:
    raise pulumi.RunError(str(err)) from None

for warning in [clear_warning, *testers.warnings]:
    if warning:
        pulumi.log.warn(f"{source}: {warning}")
hint = skip_checkpoints_hint(sum(len(spec.testers) for spec in testers.agents), os.environ)
if hint and pulumi.runtime.is_dry_run():
    pulumi.log.info(hint)
pulumi.export("agents", declare_fleet(testers.agents))
