"""`python -m app.cli`: the `partnermap` command without its installed script."""

import sys

from app.cli import main

sys.exit(main())
