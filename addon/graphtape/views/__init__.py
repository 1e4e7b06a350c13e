"""mitmproxy contentviews for Graph mail bodies: MIME decoded, $batch item by item."""
