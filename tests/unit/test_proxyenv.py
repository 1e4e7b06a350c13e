"""proxyenv: NO_PROXY entries that send Graph or sign-in calls around the proxy, found and removed."""

from __future__ import annotations

import pytest

from graphtape.proxyenv import apply_no_proxy, covers, no_proxy_changes, removed_entries


@pytest.mark.parametrize("entry", [
    "graph.microsoft.com", "GRAPH.microsoft.com", " graph.microsoft.com ", "graph.microsoft.com:443",
    ".microsoft.com", "microsoft.com", "*.microsoft.com", "*", "https://graph.microsoft.com", "graph.microsoft.com.",
])
def test_entries_that_cover_graph(entry: str) -> None:
    assert covers(entry, "graph.microsoft.com")


@pytest.mark.parametrize("entry", [
    "localhost", "127.0.0.1", "::1", "[::1]:8080", "10.0.0.0/8", "microsoft.com.evil", "ph.microsoft.com.cn",
    "raph.microsoft.com", "", ".", "example.org:443",
])
def test_entries_that_do_not(entry: str) -> None:
    assert not covers(entry, "graph.microsoft.com")


def test_every_cloud_and_login_host_is_guarded() -> None:
    kept, removed = removed_entries("localhost,graph.microsoft.us,dod-graph.microsoft.us,"
                                    "microsoftgraph.chinacloudapi.cn,login.microsoftonline.com,.windows.net,"
                                    "127.0.0.1")
    assert kept == "localhost,127.0.0.1"
    assert removed == ["graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn",
                       "login.microsoftonline.com", ".windows.net"]


def test_both_spellings_changed_and_one_notice_line() -> None:
    env = {"NO_PROXY": "localhost,graph.microsoft.com", "no_proxy": "graph.microsoft.com", "PATH": "/bin"}
    changes, removed = no_proxy_changes(env)
    assert changes == {"NO_PROXY": "localhost", "no_proxy": None}
    assert removed == ["graph.microsoft.com"]
    out, notice = apply_no_proxy(env)
    assert out == {"NO_PROXY": "localhost", "PATH": "/bin"}
    assert notice == ("graphtape: removed graph.microsoft.com from NO_PROXY and no_proxy: they would send "
                      "Microsoft Graph and sign-in calls around the proxy, to the real service")
    assert "\n" not in notice


def test_nothing_to_remove_changes_nothing() -> None:
    env = {"NO_PROXY": "localhost,.internal.example"}
    assert apply_no_proxy(env) == (env, "")
    assert apply_no_proxy({}) == ({}, "")
