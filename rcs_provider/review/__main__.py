"""``python -m rcs_provider.review``: the same as ``rcs-testers review``."""

import sys

from .command import main

sys.exit(main())
