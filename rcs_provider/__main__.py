"""``python -m rcs_provider <command>``: the same as the ``rcs-testers`` console script."""

import sys

from ._cli import main

sys.exit(main())
