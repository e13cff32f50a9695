"""`python -m robin_studio.fuzz [--short] [--inputs N] [--targets media,midi,project,prompt]`."""

import sys

from robin_studio.fuzz.harness import main

sys.exit(main())
