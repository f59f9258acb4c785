"""`python -m sdwan` is the `sdwan` command."""

from sdwan.cli.main import main

main()
