"""``python -m privacy_rules``: the same as the ``privacy-rules`` command."""

from .cli.main import main

raise SystemExit(main())
