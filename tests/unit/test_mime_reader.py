"""bodies.mime.read_message gives the parts ``email.message_from_bytes(data, policy=email.policy.default)`` gives:
the same entities in walk order, with the same headers, content (as sent and decoded) and defects. Messages built
with ``email`` itself, then bent the ways clients and attackers bend them."""

from __future__ import annotations

import base64
import email
import email.policy
import random
from email.message import EmailMessage, Message
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.bodies.mime import MimePart, read_message

Entity = tuple[str, bool, list[tuple[str, Any]], bytes | None, bytes | None, list[str]]


def email_parts(data: bytes) -> list[Entity]:
    """What the standard library reads: per entity, its type, whether it holds parts, its raw headers, its content
    as sent and decoded (leaves only), and the parser's defects (decoding adds its own, which are left out)."""
    out: list[Entity] = []
    for part in email.message_from_bytes(data, policy=email.policy.default).walk():
        leaf = not part.is_multipart()
        payload = vars(part)["_payload"]  # the payload as it came (get_payload() would decode a charset)
        sent = payload.encode("ascii", "surrogateescape") if leaf else None
        decoded = part.get_payload(decode=True) if leaf else None
        assert decoded is None or isinstance(decoded, bytes)
        out.append((part.get_content_type(), part.is_multipart(), list(part.raw_items()), sent, decoded, []))
        out[-1][5].extend(type(d).__name__ for d in part.defects if "Base64" not in type(d).__name__)
    return out


def reader_parts(data: bytes) -> list[Entity]:
    return [(p.content_type, p.is_multipart(), list(p.headers.raw_items()), None if p.is_multipart() else p.body,
             None if p.is_multipart() else p.decoded(), [type(d).__name__ for d in p.defects])
            for p in read_message(data).walk()]


def assert_same_parts(data: bytes) -> list[Entity]:
    ours = reader_parts(data)
    assert ours == email_parts(data)
    return ours


def mixed(attachments: int = 2) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alex Wilber <AlexW@contoso.com>"
    msg["To"] = "Megan Bowen <MeganB@contoso.com>, adele@contoso.com"
    msg["Subject"] = "Quarterly figures"
    msg.set_content("The figures are attached.\nSee you.\n")
    for i in range(attachments):
        msg.add_attachment(random.Random(i).randbytes(5_000 + i), maintype="application", subtype="pdf",
                           filename=f"figures-{i}.pdf")
    return msg


def alternative_in_mixed() -> EmailMessage:
    msg = EmailMessage()
    msg["To"] = "megan@contoso.com"
    msg["Subject"] = "Menu"
    msg.set_content("Plain menu\n")
    msg.add_alternative("<p>HTML menu</p>\n", subtype="html")
    msg.add_attachment(b"%PDF-1.4 menu", maintype="application", subtype="pdf", filename="menu.pdf")
    forwarded = EmailMessage()
    forwarded["Subject"] = "Original"
    forwarded.set_content("Forwarded text\n")
    msg.add_attachment(forwarded)  # message/rfc822: a message inside the message
    return msg


def texts() -> EmailMessage:
    msg = EmailMessage()
    msg["To"] = "megan@contoso.com"
    msg.set_content("Voilà, café au lait — " * 20 + "\n", charset="utf-8", cte="quoted-printable")
    msg.add_attachment("Grüße aus Köln\n", subtype="plain", charset="utf-8", cte="8bit", filename="gruss.txt")
    msg.add_attachment("Ünïcödé in base64\n", subtype="plain", charset="utf-8", cte="base64", filename="b.txt")
    return msg


BUILT = {"mixed with attachments": mixed, "alternative nested in mixed": alternative_in_mixed,
         "quoted-printable and 8bit": texts}


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("build", BUILT.values(), ids=BUILT.keys())
def test_messages_built_by_email_read_the_same(build: Any, line_end: bytes) -> None:
    data = build().as_bytes().replace(b"\n", line_end)
    parts = assert_same_parts(data)
    assert len(parts) >= 4 and not any(p[5] for p in parts)  # real structure, nothing defective


def test_the_structure_and_the_contents() -> None:
    msg = alternative_in_mixed()
    root = read_message(msg.as_bytes())
    assert [p.content_type for p in root.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf", "message/rfc822",
        "text/plain"]
    leaves = [p for p in root.walk() if not p.is_multipart()]
    assert [p.decoded() for p in leaves] == [b"Plain menu\n", b"<p>HTML menu</p>\n", b"%PDF-1.4 menu",
                                             b"Forwarded text\n"]
    assert leaves[2].headers.get_filename() == "menu.pdf"
    assert root.decoded() == b"" and root.children is not None and len(root.children) == 3  # a multipart's content


def test_a_boundary_at_the_start_of_payload_lines_is_no_delimiter() -> None:
    msg = mixed(1)
    payload_lines = [line for line in msg.as_bytes().split(b"\n") if len(line) == 76]
    boundary = payload_lines[3][:12].decode()  # the boundary's text begins lines of the base64 payload
    msg.set_boundary(boundary)
    data = msg.as_bytes()
    data = data.replace(b"See you.", f"See you.\n--{boundary}X is no delimiter\n--{boundary}-- neither".encode())
    assert data.count(b"\n" + boundary.encode()) >= 1
    parts = assert_same_parts(data)
    assert [p[0] for p in parts] == ["multipart/mixed", "text/plain", "application/pdf"]
    assert b"--" + boundary.encode() + b"X is no delimiter" in (parts[1][3] or b"")


@pytest.mark.parametrize("cut", ["closing line", "closing line and line end", "inside the last part"])
def test_a_missing_closing_boundary(cut: str) -> None:
    data = mixed().as_bytes()
    closing = data.rindex(b"\n--")
    data = {"closing line": data[: closing + 1], "closing line and line end": data[:closing],
            "inside the last part": data[: closing - 100]}[cut]
    parts = assert_same_parts(data)
    assert parts[0][5] == ["CloseBoundaryNotFoundDefect"] and len(parts) == 4


BENT = {
    "bare CR line ends": b"Content-Type: multipart/mixed; boundary=b\r\r--b\rContent-Type: text/plain\r\rhi\r--b--\r",
    "delimiters in a row": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nhi\n--b\n--b--\n\nafter\n",
    "closing delimiter first": b"Content-Type: multipart/mixed; boundary=b\n\npre\n--b--\n--b\n\nhi\n",
    "no boundary parameter": b"Content-Type: multipart/mixed\n\n--b\n\nhi\n",
    "no delimiter at all": b"Content-Type: multipart/mixed; boundary=b\n\njust text\n",
    "no blank line after the headers": b"To: a@contoso.com\nnot a header\nContent-Type: text/plain\n\nbody\n",
    "a header block cut off": b"To: a@contoso.com\nSubj",
    "a 'From ' line last among the headers": b"To: a@contoso.com\nFrom me\n\nbody\n",
    "a misplaced 'From ' line": b"To: a@contoso.com\nFrom x\nSubject: s\n\nbody\n",
    "continuation first": b" folded\nTo: a@contoso.com\n\nbody\n",
    "multipart with base64 transfer encoding": b"Content-Type: multipart/mixed; boundary=b\n"
                                               b"Content-Transfer-Encoding: base64\n\n--b\n\nhi\n--b--\n",
    "an inner part ended by the outer boundary": b"Content-Type: multipart/mixed; boundary=out\n\n--out\n"
                                                 b"Content-Type: multipart/alternative; boundary=in\n\n--in\n\nhi\n"
                                                 b"--out\n\nlast\n--out--\n",
    "the same boundary nested": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                                b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b--\n",
    "a digest's default type": b"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\nx\n--d--\n",
    "an RFC 2231 boundary beyond ASCII": b"Content-Type: multipart/mixed; boundary*=utf-8''%C3%A9\n\n--\xc3\xa9\n\nx\n",
    "a delimiter inside a line": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nsee --b here\n--b--\n",
    "delimiter with spaces after it": b"Content-Type: multipart/mixed; boundary=b\n\n--b \t\n\nhi\n--b-- \n",
    "broken base64 and quoted-printable": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                                          b"Content-Transfer-Encoding: base64\n\nQUJ!D\nQQ\n--b\n"
                                          b"Content-Transfer-Encoding: quoted-printable\n\n"
                                          b"bad =ZZ soft=\nbreak\n--b--\n",
}


@pytest.mark.parametrize("data", BENT.values(), ids=BENT.keys())
def test_bent_messages_read_the_same(data: bytes) -> None:
    assert_same_parts(data)


def test_spaces_around_the_transfer_encoding_do_not_stop_decoding() -> None:
    # The one place the reader departs from email on purpose (see MimePart.transfer_encoding).
    part = read_message(b"Content-Transfer-Encoding: Base64 \n\naGk=\n")
    assert (part.transfer_encoding, part.decoded()) == ("base64", b"hi")


# --------------------------------------------------------------------------- random structures

HEADERS = ["To: Megan Bowen <MeganB@contoso.com>", "Cc: not an address <<<", "Subject: =?utf-8?q?Caf=C3=A9?=",
           " continued", "From odd envelope", ": no name", "Content-Disposition: attachment; filename=r.pdf",
           "X-Odd: \xe9t\xe9"]
BOUNDARIES = ["b1", "b", "b1x", "b1--", "=_weird boundary", "x" * 70]
TYPES = ["text/plain; charset=utf-8", "text/html", "application/pdf", "message/rfc822", "text/plain"]


def random_entity(r: random.Random, depth: int, nl: str, outer: str) -> str:
    lines = [r.choice(HEADERS) for _ in range(r.randint(0, 3))]
    if depth < 3 and r.random() < 0.45:
        b = outer if outer and r.random() < 0.1 else r.choice(BOUNDARIES)
        lines.append(r.choice([f'Content-Type: multipart/mixed; boundary="{b}"', "Content-Type: multipart/mixed",
                               f"Content-Type: multipart/digest; boundary={b}"]))
        body = "preamble" + nl if r.random() < 0.3 else ""
        for _ in range(r.randint(0, 3)):
            body += f"--{b}" + r.choice(["", " ", "x"]) + nl + ("--" + b + nl if r.random() < 0.1 else "")
            body += random_entity(r, depth + 1, nl if r.random() < 0.9 else r.choice(["\n", "\r\n", "\r"]), b) + nl
        body += f"--{b}--" + r.choice(["", nl, nl + "epilogue" + nl]) if r.random() < 0.75 else ""
    else:
        kind, cte = r.choice(TYPES), r.choice(["base64", "quoted-printable", "7bit", "8bit", "x-bogus", None])
        lines += [f"Content-Type: {kind}"] + ([f"Content-Transfer-Encoding: {cte}"] if cte else [])
        if kind == "message/rfc822" and r.random() < 0.7:
            body = random_entity(r, depth + 1, nl, outer)
        elif cte == "base64" and r.random() < 0.7:
            body = base64.encodebytes(r.randbytes(r.randint(0, 400))).decode().replace("\n", nl)
        else:
            body = r.choice(["hello", "h\xe9llo", "", "a" + nl + "b", f"--{outer}x", "From me", "caf=C3=A9 =ZZ", nl])
    return nl.join(lines) + nl + (nl if r.random() < 0.92 else "") + body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.sampled_from(["\n", "\r\n"]), st.floats(0, 1))
def test_random_structures_read_the_same(r: random.Random, nl: str, keep: float) -> None:
    data = random_entity(r, 0, nl, "").encode("utf-8", "surrogateescape")
    assert_same_parts(data[: max(1, int(len(data) * keep))] if keep < 0.1 else data)


def test_a_part_is_read_once_and_never_changes() -> None:
    root = read_message(texts().as_bytes())
    leaves = [p for p in root.walk() if not p.is_multipart()]
    before = [(list(p.headers.raw_items()), p.headers.get_payload(), list(p.defects)) for p in leaves]
    for p in leaves:
        p.decoded()
    assert [(list(p.headers.raw_items()), p.headers.get_payload(), list(p.defects)) for p in leaves] == before
    assert all(isinstance(p, MimePart) and not isinstance(p.headers.get_payload(), list) for p in leaves)
    assert isinstance(root.headers, Message)
