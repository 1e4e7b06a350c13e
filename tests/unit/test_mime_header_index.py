"""bodies.mime.HeaderBlock reads headers through an index: every read gives what email's own EmailMessage gives
for the same block, before and after the block is changed by email's setters."""

from __future__ import annotations

import email.parser
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest

from graphtape.bodies.mime import POLICY, HeaderBlock, parse_headers

BLOCKS = [
    b"From: Alex Wilber <AlexW@contoso.com>\nTo: Megan <MeganB@contoso.com>, adele@contoso.com\nSubject: #1 Hi\n"
    b"Content-Type: text/plain; charset=\"iso-8859-1\"\nContent-Transfer-Encoding: quoted-printable\n"
    b"MIME-Version: 1.0\n\n",
    b"to: a@b.c\nTO: d@e.f\nCc: \nX-Empty:\nContent-Type: multipart/mixed; boundary=\"xyz\"\n\n",
    b"Subject: no type\n\n",
    b"Received: one\nReceived: two\nreceived: three\nContent-type: TEXT/HTML; Charset=UTF-8\n\n",
    b"",
]
NAMES = ["To", "to", "CC", "Received", "content-type", "Content-Transfer-Encoding", "X-Empty", "Missing", "subject"]


def plain(block: bytes) -> EmailMessage:
    msg = email.parser.BytesParser(policy=POLICY).parsebytes(block, headersonly=True)
    assert isinstance(msg, EmailMessage) and not isinstance(msg, HeaderBlock)
    return msg


def reads(msg: EmailMessage) -> list[Any]:
    out: list[Any] = []
    for name in NAMES:
        out += [msg.get(name), msg.get(name, "fail"), msg.get_all(name), msg.get_all(name, []), name in msg,
                msg[name]]
    out += [msg.get_content_type(), msg.get_content_maintype(), msg.get_content_charset(), msg.get_boundary(),
            msg.keys(), [str(v) for v in msg.values()]]
    return [str(x) if x is not None and not isinstance(x, (bool, list)) else x for x in out]


@pytest.mark.parametrize("block", BLOCKS)
def test_reads_are_emails(block: bytes) -> None:
    indexed = parse_headers(block)
    assert isinstance(indexed, HeaderBlock)
    assert reads(indexed) == reads(plain(block))


def _set(m: EmailMessage) -> None:
    m["Received"] = "four"


def _delete(m: EmailMessage) -> None:
    del m["to"]


def _replace(m: EmailMessage) -> None:
    if "Subject" in m:
        m.replace_header("subject", "changed")


def _param(m: EmailMessage) -> None:
    m.set_param("charset", "utf-8")


def _boundary(m: EmailMessage) -> None:
    if "content-type" in m:
        m.set_boundary("new")


@pytest.mark.parametrize("change", [_set, _delete, _replace, _param, _boundary])
@pytest.mark.parametrize("block", BLOCKS)
def test_reads_after_a_change_are_emails(block: bytes, change: Callable[[EmailMessage], None]) -> None:
    indexed, reference = parse_headers(block), plain(block)
    reads(indexed)  # the index exists before the change
    change(indexed)
    change(reference)
    assert reads(indexed) == reads(reference)


def test_a_name_that_is_not_text_raises_as_in_email() -> None:
    with pytest.raises(AttributeError):
        _ = 3 in plain(BLOCKS[0])  # type: ignore[operator]
    with pytest.raises(AttributeError):
        _ = 3 in parse_headers(BLOCKS[0])  # type: ignore[operator]
