"""`python -m biodl.cli`: the same as the `biodl` command."""

from biodl.cli import main

main()
