"""``python -m qunyun`` runs the CLI (the same as the ``qunyun`` command)."""

from qunyun.cli.main import main

if __name__ == "__main__":
    main()
