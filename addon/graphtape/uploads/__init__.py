"""Upload sessions: the chunk PUTs to the ``uploadUrl`` a createUploadSession answer names (another host)."""
