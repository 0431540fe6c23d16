"""python -m voxhost."""

from .cli import main

raise SystemExit(main())
