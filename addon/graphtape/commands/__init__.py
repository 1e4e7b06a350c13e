"""graphtape commands that live outside cli.py, each registering itself on the parser (``add``) with ``run``."""
