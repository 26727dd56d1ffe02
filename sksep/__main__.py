"""``python -m sksep``: the same as the ``sksep`` command (see :mod:`sksep.cli`)."""

from .cli import main

raise SystemExit(main())
