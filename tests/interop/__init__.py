"""Tests of the tools people already use with graphtape: mitmproxy views, HAR and flow files, record-missing."""
