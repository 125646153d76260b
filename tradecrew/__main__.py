"""``python -m tradecrew`` is the ``tradecrew`` command."""

from tradecrew.cli import main

main()
