"""``python -m rcs_provider.sandbox``: run the local Kaleyra-compatible API."""

from rcs_provider.sandbox.cli import main

raise SystemExit(main())
