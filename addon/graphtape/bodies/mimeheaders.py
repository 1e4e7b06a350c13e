"""Header blocks as ``bodies.mime`` reads them: ``HeaderBlock``, an ``EmailMessage`` whose header reads are dict
lookups, and ``plain_block``, email's parse of a plain header block made without its feed parser.

Both give what the standard ``email`` package gives (tests/unit/test_mime_header_index.py and
test_mime_plain_block.py hold them side by side); they only cost less, on every MIME body a request sends.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any


class HeaderBlock(EmailMessage):
    """``EmailMessage`` whose header reads go through an index of its header block.

    email's ``get``, ``get_all`` and ``in`` walk every header, lower-casing each name, on every read: a 14-header
    block read 15 times per request (Content-Type alone four times) costs ~270 ``lower()``. Here each read is a
    dict lookup, with the same results in the same order; the index is made again if the headers changed
    (appended, replaced or reassigned, as email's own setters do).
    """

    def _found(self, name: str) -> list[tuple[str, Any]]:
        headers = self._headers  # type: ignore[attr-defined]
        index = self.__dict__.get("_graphtape_index")
        if index is None or index[0] is not headers or index[1] != len(headers):
            by_name: dict[str, list[tuple[str, Any]]] = {}
            for k, v in headers:
                by_name.setdefault(k.lower(), []).append((k, v))
            index = self.__dict__["_graphtape_index"] = (headers, len(headers), by_name)
        found: list[tuple[str, Any]] = index[2].get(name.lower(), [])
        return found

    def get(self, name: str, failobj: Any = None) -> Any:
        found = self._found(name)
        return self.policy.header_fetch_parse(*found[0]) if found else failobj

    def get_all(self, name: str, failobj: Any = None) -> Any:
        found = self._found(name)
        return [self.policy.header_fetch_parse(k, v) for k, v in found] if found else failobj

    def __contains__(self, name: object) -> bool:
        return bool(self._found(name))  # type: ignore[arg-type]  # a name that is no str raises, as in email

    def replace_header(self, _name: str, _value: Any) -> None:
        super().replace_header(_name, _value)
        self.__dict__.pop("_graphtape_index", None)  # replaced in place: same list, same length


_PLAIN_HEADER = re.compile(r"[!-9;-~]+:")  # a line the feed parser takes for a header (not "From ", not ":x")
_ODD_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e]")  # where str.splitlines breaks a line and email does not


def plain_block(block: bytes, policy: Any) -> HeaderBlock | None:
    """What email's feed parser makes of a plain header block (each line a ``Name:`` header or a continuation of
    one), made without it: the same headers, through the same ``policy.header_source_parse``, and no defects.
    None for any other block (a blank line, a "From " line, a line that is no header, ...): email parses those."""
    text = block.decode("ascii", "surrogateescape")  # as BytesParser decodes
    if not text or _ODD_BREAKS.search(text):
        return None
    groups: list[list[str]] = []
    for line in text.splitlines(keepends=True):  # CRLF, LF or a lone CR, kept: the feed parser's lines
        if line[0] in " \t":
            if not groups:
                return None  # a continuation first: a defect email notes
            groups[-1].append(line)
        elif _PLAIN_HEADER.match(line):
            groups.append([line])
        else:
            return None
    msg = HeaderBlock(policy=policy)
    for lines in groups:
        msg.set_raw(*policy.header_source_parse(lines))
    msg.set_payload("")  # headersonly: the rest of the input (none) is the payload
    return msg
