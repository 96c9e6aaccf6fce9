"""``python -m augkit.cli``: the augkit command (as ``python -m augkit``)."""

from augkit.cli import main

raise SystemExit(main())
