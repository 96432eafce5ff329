"""``python -m rcs_provider._review``: the same as ``rcs-testers review``."""

import sys

from .command import main

sys.exit(main())
