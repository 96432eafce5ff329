"""``--decrypt``: let the engine decrypt the secret phones, so that numbers, not ciphertexts,
are compared. Needs ``pulumi``, the stack's backend and its secrets provider (for example
``PULUMI_CONFIG_PASSPHRASE``); the review never sees a key, only the decrypted agents list."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import rules
from .gitsource import ReviewUsageError
from .rules import PHONEBOOK_NAME

__all__ = ["decrypted_testers"]

TIMEOUT_SECONDS = 120


def decrypted_testers(
    project_dir: Path, stack: str, text: str, *, project: str, at_base: bool
) -> tuple[object, object]:
    """The stack's ``<project>:agents`` and phonebook (``<project>:testers``) values with
    secrets decrypted, as ``pulumi config --show-secrets --json`` gives them; the base
    version is passed with ``--config-file``."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ReviewUsageError(
            "Unable to decrypt the stack files: pulumi is not on PATH. Install the Pulumi "
            "CLI, or review without --decrypt (secret phones are then compared by ciphertext)."
        )
    command = [pulumi, "config", "--show-secrets", "--json", "--non-interactive", "--stack", stack]
    with tempfile.TemporaryDirectory(prefix="rcs-review-") as folder:
        if at_base:
            config_file = Path(folder) / f"Pulumi.{stack}.yaml"
            config_file.write_text(text, encoding="utf-8")
            command += ["--config-file", str(config_file)]
        try:
            result = subprocess.run(
                command,
                cwd=project_dir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
                timeout=TIMEOUT_SECONDS,
                env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            )
        except subprocess.TimeoutExpired:
            result = None
    side = "base" if at_base else "work tree"
    if result is None or result.returncode != 0:
        why = (
            f"no answer within {TIMEOUT_SECONDS} s"
            if result is None
            else _first_error_line(result.stderr)
        )
        raise ReviewUsageError(
            f"Unable to decrypt stack {stack} ({side} version): {why}. Log in to its backend "
            "and make its secrets provider available (e.g. PULUMI_CONFIG_PASSPHRASE), or "
            "review without --decrypt."
        )
    try:
        config = json.loads(result.stdout)
        entries = (config.get(f"{project}:agents"), config.get(f"{project}:{PHONEBOOK_NAME}"))
    except (json.JSONDecodeError, AttributeError):
        raise ReviewUsageError(
            f"Unable to decrypt stack {stack} ({side} version): `pulumi config --json` did not "
            "answer a JSON map. Check the Pulumi CLI version (>= 3.0)."
        ) from None
    return _value_of(entries[0]), _value_of(entries[1])


def _value_of(entry: object) -> object:
    """A config value of ``pulumi config --json``: an object, or JSON text, or a string."""
    if not isinstance(entry, dict):
        return None
    if "objectValue" in entry:
        return entry["objectValue"]
    value = entry.get("value")
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return value


def _first_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    line = next((x for x in lines if x.startswith("error:")), lines[0] if lines else "failed")
    return rules.redact_digits(line.removeprefix("error:").strip())[:300]
