"""The stand-in's upload sessions: createUploadSession, then chunk PUTs and DELETE on a second host name.

As Outlook does (outlook-large-attachments): the session's ``uploadUrl`` is on ``outlook.office.com`` (another
host than Graph's; ``host=`` changes it) and carries an ``authtoken`` (JWT-shaped, made up per session, so a
recording that failed to redact it would be refused); each chunk is answered ``200`` with
``nextExpectedRanges: ["{next}"]``, the last ``201`` with a ``Location`` header and no body, ``DELETE`` with
``204``. A chunk the contract refuses gets the answer graphtape enforces for it (the ``upload.*`` rules of
mail-contract.yaml: ``416 invalidRange`` for a range out of order or overlapping, ...), so that a recording
against the stand-in never holds answers Graph would not give.

``range_style`` is for trying clients against the other forms of ``nextExpectedRanges`` Graph's
uploadSession type allows (OneDrive's ``"N-"`` and ``"N-M"``): ``outlook`` (the default) is what Outlook sends.
"""

from __future__ import annotations

import base64
import datetime as _dt
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from graphtape.contract import RULES
from graphtape.model import HttpRequest
from graphtape.uploads.chunks import UploadState, advance, check_chunk

UPLOAD_HOST = "outlook.office.com"
SESSION_PATH = re.compile(r"^/api/v2\.0/Users\('([^']*)'\)/Messages\('([^']*)'\)/AttachmentSessions\('([^']*)'\)$")
CREATE_PATH = re.compile(r"/+(?:me|users/([^/]+))/+(?:mailFolders/[^/]+/+)?messages/+([^/]+)/+attachments/+"
                         r"(?:microsoft\.graph\.)?createUploadSession$", re.IGNORECASE)
RANGE_STYLES = ("outlook", "open", "closed")
Answer = tuple[int, Any, list[tuple[str, str]]]  # status, JSON document (None: no body), extra headers


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _token(session_id: str) -> str:
    claims = json.dumps({"aud": "https://outlook.office.com", "sid": session_id, "iss": "graphtape fakegraph"})
    return ".".join([_b64url(b'{"typ":"JWT","alg":"none"}'), _b64url(claims.encode()), _b64url(b"fake")])


@dataclass
class _Session:
    sid: str
    user: str
    message: str
    token: str
    state: UploadState
    expires: str


@dataclass
class UploadSessions:
    host: str = UPLOAD_HOST
    range_style: str = "outlook"
    sessions: dict[str, _Session] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    received_bytes: int = 0  # chunk bytes taken (the stand-in keeps none of them)

    def create(self, path: str, fields: dict[str, Any]) -> Answer:
        """createUploadSession: 201 with uploadUrl, expirationDateTime, nextExpectedRanges ["0-"]."""
        m = CREATE_PATH.search(path)
        item = next((v for k, v in fields.items() if k.lower() == "attachmentitem"), None)
        size = next((v for k, v in item.items() if k.lower() == "size"), None) if isinstance(item, dict) else None
        if m is None or not isinstance(size, int) or isinstance(size, bool):
            return 400, _error("ErrorInvalidRequest", "AttachmentItem with a size is required."), []
        if size < 3 * 1024 * 1024:
            return 400, _error("ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
                               "The attachment size is less than the minimum size for an upload session."), []
        with self.lock:
            sid = f"AAMkAGRWAAAUpLd{next(self.ids):04d}AAA="
        user = unquote(m.group(1) or "fake-user@contoso.com")
        expires = (_dt.datetime.now(_dt.UTC) + _dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        session = _Session(sid, user, unquote(m.group(2)), _token(sid), UploadState(size=size), expires)
        self.sessions[sid] = session
        url = f"https://{self.host}/api/v2.0/Users('{session.user}')/Messages('{session.message}')/" \
              f"AttachmentSessions('{sid}')?authtoken={session.token}"
        return 201, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession",
                     "uploadUrl": url, "expirationDateTime": expires, "nextExpectedRanges": ["0-"]}, []

    def find(self, path: str, query: str) -> _Session | Answer:
        m = SESSION_PATH.match(unquote(path))
        session = self.sessions.get(m.group(3)) if m else None
        if m is None or session is None:
            return 404, _error("itemNotFound", "Upload session not found."), []
        if parse_qs(query).get("authtoken") != [session.token]:
            return 401, _error("InvalidAuthenticationToken", "Access token validation failure."), []
        return session

    def put(self, path: str, query: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """A chunk: 200 with nextExpectedRanges, 201 with Location after the last byte; the contract's errors."""
        session = self.find(path, query)
        if not isinstance(session, _Session):
            return session
        req = HttpRequest("PUT", path, headers, body)
        with self.lock:
            errors = [f for f in check_chunk(req, session.state) if f.severity == "error"]
            if errors:
                rule = RULES[errors[0].rule]
                return rule.status, _error(rule.code, rule.graph_message or rule.description), []
            advance(req, session.state, errors)
            self.received_bytes += len(body)
        state = session.state
        if state.finished:
            attachment = f"AAMkAGRWAAAUpLd{session.sid[15:19]}BEgAQA="
            location = f"https://{self.host}/api/v2.0/Users('{session.user}')/Messages('{session.message}')/" \
                       f"Attachments('{attachment}')"
            return 201, None, [("Location", location)]
        return 200, {"@odata.context": f"https://{self.host}/api/v2.0/$metadata#Users('{session.user}')/Messages("
                                       f"'{session.message}')/AttachmentSessions/$entity",
                     "ExpirationDateTime": session.expires, "nextExpectedRanges": [self._next(state)]}, []

    def _next(self, state: UploadState) -> str:
        if self.range_style == "open":
            return f"{state.next_offset}-"
        if self.range_style == "closed" and state.size is not None:
            return f"{state.next_offset}-{state.size - 1}"
        return str(state.next_offset)

    def delete(self, path: str, query: str) -> Answer:
        session = self.find(path, query)
        if not isinstance(session, _Session):
            return session
        session.state.finished = True
        return 204, None, []


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
