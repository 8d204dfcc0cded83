"""``python -m pipelines.cli``: the ``deidflow`` command."""

import sys

from pipelines.cli import main

sys.exit(main())
