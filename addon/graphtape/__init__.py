"""graphtape: a record-replay proxy for Microsoft Graph mail, built as a mitmproxy addon."""

__version__ = "0.1.0"
