"""bodies.mimeheaders.plain_block: a plain header block made into the message email's feed parser makes of it (the
same headers, payload and defects), and None for every block it does not read that way; email reads those."""

from __future__ import annotations

import email.parser
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.bodies.mime import POLICY, parse_headers
from graphtape.bodies.mimeheaders import HeaderBlock, plain_block


def emails(block: bytes) -> EmailMessage:
    msg = email.parser.BytesParser(HeaderBlock, policy=POLICY).parsebytes(block, headersonly=True)
    assert isinstance(msg, HeaderBlock)
    return msg


def state(msg: EmailMessage) -> dict[str, Any]:
    out = {k: v for k, v in vars(msg).items() if k not in ("_graphtape_index", "defects", "policy")}
    out["defects"] = [(type(d).__name__, str(d)) for d in msg.defects]
    out["policy"] = msg.policy is POLICY
    return out


SEED = (b"From: Alex Wilber <AlexW@M365x765140.OnMicrosoft.com>\nTo: Megan Bowen <MeganB@M365x765140.OnMicrosoft.com>"
        b"\nSubject: #1 Internal Resume Submission: Sales Associate\nMessage-ID:\n\t<MWHPR1301MB2191@namprd13.prod>\n"
        b"X-MS-Has-Attach:\nContent-Type: text/plain; charset=\"iso-8859-1\"\n"
        b"Content-Transfer-Encoding: quoted-printable\nMIME-Version: 1.0")
PLAIN = [SEED, SEED.replace(b"\n", b"\r\n"), SEED.replace(b"\n", b"\r"), b"Subject: caf\xc3\xa9\r\n",
         b"A:\n", b"Content-Type: multipart/mixed;\n boundary=\"b\"\n", b"X: trailing space \n  \n"]
OTHER = [b"", b"\n", b"Subject: x\n\nbody", b"From someone Sat Jan  1\nTo: a@b.c\n", b" continued first\nTo: a\n",
         b":no name\n", b"no header line\n", b"To: a\x0bb\n", b"To: a\n\x0cX: b\n", b"To: a\r\n\r\n"]


@pytest.mark.parametrize("block", PLAIN)
def test_plain_blocks_are_made_as_email_makes_them(block: bytes) -> None:
    made = plain_block(block, POLICY)
    assert made is not None
    assert state(made) == state(emails(block))
    assert state(parse_headers(block)) == state(emails(block))


@pytest.mark.parametrize("block", OTHER)
def test_other_blocks_are_left_to_email(block: bytes) -> None:
    assert plain_block(block, POLICY) is None
    assert state(parse_headers(block)) == state(emails(block))


LINE = st.sampled_from(["To: a@b.c", "Subject: x", "From: y", "From z", " cont", "\tcont", ":x", "X-A:", "plain",
                        "Content-Type: text/plain; charset=utf-8", "", "X: \x0b", "X: caf\u00e9", "A:B:C"])
ENDING = st.sampled_from(["\n", "\r\n", "\r", ""])


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(LINE, ENDING), max_size=8))
def test_generated_blocks_parse_as_email_parses_them(lines: list[tuple[str, str]]) -> None:
    block = "".join(a + b for a, b in lines).encode("utf-8")
    made = plain_block(block, POLICY)
    if made is not None:
        assert state(made) == state(emails(block))
    assert state(parse_headers(block)) == state(emails(block))
