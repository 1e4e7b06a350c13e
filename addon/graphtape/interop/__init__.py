"""Other tools' files: HAR and mitmproxy flow files into cassettes, cassettes out as HAR."""
