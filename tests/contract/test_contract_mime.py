"""MIME checks on big bodies: the reader's fast path (big payloads never handed to the email parser) must not change
what is found."""

from __future__ import annotations

import base64
import email.feedparser
import os
from email.message import EmailMessage
from typing import Any

import pytest
from contract_cases import big_mime

from graphtape.bodies import mime
from graphtape.bodies.kinds import decode_base64_mime as decode_base64
from graphtape.contract import validate_request
from graphtape.contract.mimecheck import check_mime
from graphtape.model import HttpRequest

SENDMAIL = "https://graph.microsoft.com/v1.0/me/sendMail"


def _check(raw: bytes, sends: bool = True) -> list[str]:
    return [f.rule for f in check_mime(base64.encodebytes(raw), sends=sends, doc="d")]


def _message(attachment: bytes) -> EmailMessage:
    msg = EmailMessage()
    msg["To"] = "megan@contoso.com"
    msg["Subject"] = "report"
    msg.set_content("Voilà, the report.", charset="utf-8", cte="quoted-printable")
    msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="r.pdf")
    return msg


def test_big_valid_attachment_just_under_4mb() -> None:
    body = big_mime(2_230_000)
    assert len(body) < 4 * 1024 * 1024
    req = HttpRequest("POST", SENDMAIL, [("Content-Type", "text/plain")], body)
    assert validate_request(req) == []


def test_big_attachment_with_crlf_lines() -> None:
    raw = _message(os.urandom(300_000)).as_bytes().replace(b"\n", b"\r\n")
    assert _check(raw) == []


def test_broken_base64_at_the_end_of_a_big_attachment_is_found() -> None:
    raw = _message(os.urandom(300_000)).as_bytes()
    end = raw.rindex(b"\n--")
    broken = raw[: end - 1] + b"!" + raw[end:]  # last character of the attachment's base64
    assert _check(broken) == ["mime.transfer-encoding"]


def test_padding_inside_a_big_attachment_is_found() -> None:
    raw = _message(os.urandom(300_000)).as_bytes()
    start = raw.index(b"\n\n", raw.index(b"r.pdf")) + 2
    broken = raw[: start + 10_000] + b"==" + raw[start + 10_002 :]
    assert _check(broken) == ["mime.transfer-encoding"]


def test_big_text_part_is_decoded_for_its_charset() -> None:
    msg = EmailMessage()
    msg["To"] = "megan@contoso.com"
    msg.set_content(("héllo wörld " * 20_000), charset="utf-8", cte="base64")
    raw = msg.as_bytes()
    assert _check(raw) == []
    latin = raw.replace(b'charset="utf-8"', b'charset="us-ascii"')
    assert _check(latin) == ["mime.charset"]


def test_long_alphanumeric_lines_in_quoted_printable_keep_soft_breaks() -> None:
    line = b"A" * 75 + b"=\n"
    head = b"To: a@contoso.com\nContent-Type: text/plain; charset=utf-8\n"
    head += b"Content-Transfer-Encoding: quoted-printable\n\n"
    raw = head + line * 300 + (b"B" * 76 + b"\n") * 200 + b"end=\n"
    assert _check(raw) == []


def test_decode_base64_accepts_wrapping_and_refuses_garbage() -> None:
    assert decode_base64(b"aGVs\r\nbG8=\n") == b"hello"
    assert decode_base64(b"aGVsbG8") is None
    assert decode_base64(b"aGVs bG8=") == b"hello"
    assert decode_base64(b"aGVsbG8=!") is None
    assert decode_base64(b"") is None


def test_draft_without_recipient_is_fine_but_sending_it_is_not() -> None:
    raw = b"Subject: hi\n\nhello\n"
    assert _check(raw, sends=False) == []
    assert _check(raw, sends=True) == ["mime.no-recipient"]


def test_the_email_parser_reads_the_header_blocks_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parsing speed depends on this (the email parser costs about 1.5 µs a line); see bodies/mimesplit.py.
    fed: list[int] = []
    feed = email.feedparser.FeedParser.feed

    def counted(self: email.feedparser.FeedParser, data: str) -> None:
        fed.append(len(data))
        feed(self, data)

    plain = mime.plain_block

    def counted_plain(block: bytes, policy: Any) -> Any:  # a plain header block is read without the feed parser
        made = plain(block, policy)
        if made is not None:
            fed.append(len(block))
        return made

    monkeypatch.setattr(email.feedparser.FeedParser, "feed", counted)
    monkeypatch.setattr(mime, "plain_block", counted_plain)
    for size in (300_000, 300_001, 300_002):
        raw = _message(os.urandom(size)).as_bytes()
        fed.clear()
        assert _check(raw) == []
        assert len(fed) == 3 and sum(fed) < 1_000  # the message's, the text part's and the attachment's headers
