"""`python -m normreg_cli`: the `normreg` command, for an environment whose scripts are not on PATH."""

from normreg_cli.main import main

main()
