"""The ``graphtape`` subcommands that live outside cli.py, each registered there with a line or two."""
