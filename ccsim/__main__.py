"""``python -m ccsim``: the same as the ``ccsim`` command."""

import sys

from ccsim.cli import main

sys.exit(main())
