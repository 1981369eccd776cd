"""`python -m core.train --spec SPEC.json [--resume]`: the trainer subprocess."""

import sys

from core.train.worker import main

sys.exit(main())
