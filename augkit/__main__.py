"""``python -m augkit``: the augkit command."""

from augkit.cli import main

raise SystemExit(main())
