"""``python -m voiceguide``."""

from __future__ import annotations

import sys

from voiceguide.cli.main import main

sys.exit(main())
