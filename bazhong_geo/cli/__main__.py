"""``python -m bazhong_geo.cli``."""

import sys

from . import main

sys.exit(main())
