"""``python -m somacontracts``: the same as the ``somacontracts`` command."""

import sys

from somacontracts.tooling.cli import main

sys.exit(main())
