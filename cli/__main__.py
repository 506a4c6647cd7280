"""`python -m cli`, the same as the `crane` console script."""

import sys

from cli import main

sys.exit(main())
