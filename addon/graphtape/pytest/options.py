"""The pytest plugin's options: ``--graphtape-*`` on the command line and ``graphtape_*`` in the ini file
(the command line wins; plugin.settings_of reads them)."""

from __future__ import annotations

import pytest

from graphtape.model import PluginMode
from graphtape.proxy.clients import CLIENT_CA


def add_options(parser: pytest.Parser) -> None:
    """The plugin's command-line options and ini settings (``pytest_addoption``)."""
    group = parser.getgroup("graphtape", "graphtape: Microsoft Graph traffic replayed from cassettes")
    group.addoption("--graphtape-mode", choices=[m.value for m in PluginMode], default=None,
                    help="replay (default): offline, a missing cassette fails the test; record: re-record "
                         "every cassette; once: record the missing cassettes, replay the rest; simulate: every "
                         "marked test against a simulated mailbox; new_episodes: replay what a cassette has, "
                         "append what it lacks")
    group.addoption("--graphtape-cassette-dir", default=None, metavar="DIR",
                    help="the cassette folder (default: cassettes under the root dir)")
    group.addoption("--graphtape-upstream", default=None, metavar="URL",
                    help="record: send Graph calls to this base URL instead (cassettes keep the Graph URL)")
    group.addoption("--graphtape-upstream-ca", default=None, metavar="FILE",
                    help="record: trust this CA (PEM) for the upstream's certificate")
    group.addoption("--graphtape-strict", action="store_true", default=None,
                    help="also fail tests on deviations from the recording and on unused interactions")
    group.addoption("--graphtape-confdir", default=None, metavar="DIR",
                    help="mitmproxy's CA folder (default: a new one under pytest's temp dir; ~/.mitmproxy to reuse)")
    group.addoption("--graphtape-client-ca", choices=list(CLIENT_CA), default=None,
                    help="what clients behind the proxy trust (SSL_CERT_DIR, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE...): "
                         "bundle (default: the public CAs and the proxy's) or proxy (its CA alone: direct HTTPS "
                         "calls fail)")
    parser.addini("graphtape_mode", "graphtape: replay, record, once, simulate or new_episodes",
                  default=PluginMode.REPLAY.value)
    parser.addini("graphtape_cassette_dir", "graphtape: the cassette folder, relative to the ini file", default="")
    parser.addini("graphtape_upstream", "graphtape: base URL to record against", default="")
    parser.addini("graphtape_upstream_ca", "graphtape: CA (PEM) of the upstream, relative to the ini file",
                  default="")
    parser.addini("graphtape_strict", "graphtape: fail on deviations and unused interactions", type="bool",
                  default=False)
    parser.addini("graphtape_confdir", "graphtape: mitmproxy's CA folder", default="")
    parser.addini("graphtape_client_ca", "graphtape: bundle or proxy (the CA clients trust)", default="bundle")
