"""Upload sessions: createUploadSession, then chunk PUTs and DELETE on a second host name (Outlook's).

As Outlook does (outlook-large-attachments): the session's ``uploadUrl`` is on ``outlook.office.com`` (``host``
changes it) and carries an ``authtoken`` (JWT-shaped, made per session, so a recording that failed to redact it
would be refused); each chunk is answered ``200`` with ``nextExpectedRanges: ["{next}"]``, the last ``201`` with a
``Location`` header and no body (the attachment is then on the message, its bytes kept), ``DELETE`` with ``204``.
A chunk the contract refuses (``uploads.chunks``, the ``upload.*`` rules of mail-contract.yaml: ``416
invalidRange`` for a range out of order, ...) gets the status and code graphtape enforces for it. A session is
for 3 MB to 150 MB: smaller is ``ErrorAttachmentSizeShouldNotBeLessThanMinimumSize``; larger, the contract refuses
first (``AttachmentItem.size`` at most 150 MB, overlay.yaml), and 413 here for a caller that skips it.

``range_style`` is for trying clients against the other forms of ``nextExpectedRanges`` Graph's uploadSession
type allows (OneDrive's ``"N-"`` and ``"N-M"``): ``outlook`` (the default) is what Outlook sends.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from graphtape.contract import RULES
from graphtape.model import HttpRequest, HttpResponse
from graphtape.simulate.answers import GraphError, empty, json_answer
from graphtape.simulate.attachments import too_big
from graphtape.simulate.call import Call
from graphtape.simulate.ids import Ids
from graphtape.simulate.payload import json_object, param
from graphtape.simulate.store import Mailbox, Stored
from graphtape.uploads.chunks import UploadState, advance, check_chunk

UPLOAD_HOST = "outlook.office.com"
SESSION_PATH = re.compile(r"^/api/v2\.0/Users\('([^']*)'\)/Messages\('([^']*)'\)/AttachmentSessions\('([^']*)'\)$")
MIN_BYTES = 3 * 1024 * 1024
MAX_BYTES = 150 * 1024 * 1024
RANGE_STYLES = ("outlook", "open", "closed")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _token(session_id: str, ids: Ids) -> str:
    claims = json.dumps({"aud": "https://outlook.office.com", "sid": session_id, "iss": "graphtape simulate",
                         "nonce": ids.token()})
    return ".".join([_b64url(b'{"typ":"JWT","alg":"none"}'), _b64url(claims.encode()), _b64url(b"simulated")])


@dataclass
class Session:
    sid: str
    box: Mailbox
    message: Stored
    token: str
    state: UploadState
    expires: str
    name: str
    content_type: str
    data: bytearray = field(default_factory=bytearray)

    def base(self, host: str) -> str:
        return f"https://{host}/api/v2.0/Users('{self.box.user_principal_name}')/Messages('{self.message.id}')"


@dataclass
class UploadSessions:
    host: str = UPLOAD_HOST
    range_style: str = "outlook"
    sessions: dict[str, Session] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    received_bytes: int = 0  # chunk bytes taken

    def handles(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.hostname or "").lower() == self.host and SESSION_PATH.match(unquote(parts.path)) is not None

    def create(self, call: Call, stored: Stored) -> HttpResponse:
        """createUploadSession: 201 with uploadUrl, expirationDateTime, nextExpectedRanges ["0-"]."""
        item = param(json_object(call.req), "attachmentItem")
        size = param(item, "size") if isinstance(item, dict) else None
        if not isinstance(size, int) or isinstance(size, bool):
            raise GraphError(400, "ErrorInvalidRequest", "AttachmentItem with a size is required.")
        if size < MIN_BYTES:
            raise GraphError(400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
                             "The attachment size is less than the minimum size for an upload session.")
        if size > MAX_BYTES:
            raise too_big(size, MAX_BYTES, "bytes an upload session may take")
        assert isinstance(item, dict)
        sid = call.state.ids.upload_session()
        expires = (call.state.clock.now() + _dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        session = Session(sid, call.box, stored, _token(sid, call.state.ids), UploadState(size=size), expires,
                          str(param(item, "name") or "attachment"),
                          str(param(item, "contentType") or "application/octet-stream"))
        with self.lock:
            self.sessions[sid] = session
        url = f"{session.base(self.host)}/AttachmentSessions('{sid}')?authtoken={session.token}"
        return json_answer(201, {"@odata.context": f"https://graph.microsoft.com/{call.version}/$metadata#"
                                                   "microsoft.graph.uploadSession",
                                 "uploadUrl": url, "expirationDateTime": expires, "nextExpectedRanges": ["0-"]})

    def find(self, req: HttpRequest) -> Session:
        parts = urlsplit(req.url)
        m = SESSION_PATH.match(unquote(parts.path))
        session = self.sessions.get(m.group(3)) if m else None
        if session is None:
            raise GraphError(404, "itemNotFound", "Upload session not found.")
        if parse_qs(parts.query).get("authtoken") != [session.token]:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.")
        return session

    def answer(self, req: HttpRequest, ids: Ids, now: str) -> HttpResponse:
        """A chunk PUT or a DELETE on an uploadUrl."""
        session = self.find(req)
        if req.method.upper() == "DELETE":
            session.state.finished = True
            return empty(204)
        if req.method.upper() != "PUT":
            raise GraphError(405, "BadRequest", f"An upload session takes PUT and DELETE, not {req.method}.")
        return self._put(req, session, ids, now)

    def _put(self, req: HttpRequest, session: Session, ids: Ids, now: str) -> HttpResponse:
        with self.lock:
            errors = [f for f in check_chunk(req, session.state) if f.severity == "error"]
            if errors:
                rule = RULES[errors[0].rule]
                raise GraphError(rule.status or 400, rule.code or "invalidRequest",
                                 rule.graph_message or rule.description)
            advance(req, session.state, errors)
            self.received_bytes += len(req.body)
            session.data += req.body
        state = session.state
        if state.finished:
            attachment = self._attach(session, ids, now)
            return empty(201, [("Location", f"{session.base(self.host)}/Attachments('{attachment}')")])
        return json_answer(200, {"@odata.context": f"https://{self.host}/api/v2.0/$metadata#Users('"
                                                   f"{session.box.user_principal_name}')/Messages('"
                                                   f"{session.message.id}')/AttachmentSessions/$entity",
                                 "ExpirationDateTime": session.expires, "nextExpectedRanges": [self._next(state)]})

    def _attach(self, session: Session, ids: Ids, now: str) -> str:
        data = bytes(session.data)
        doc: dict[str, Any] = {"@odata.type": "#microsoft.graph.fileAttachment", "id": ids.attachment(),
                               "lastModifiedDateTime": now, "name": session.name,
                               "contentType": session.content_type, "size": len(data), "isInline": False,
                               "contentId": None, "contentLocation": None,
                               "contentBytes": base64.b64encode(data).decode()}
        session.message.attachments[doc["id"]] = doc
        session.message.doc["hasAttachments"] = True
        if session.message.id in session.box.messages:
            session.box.touched(session.message)
        return str(doc["id"])

    def _next(self, state: UploadState) -> str:
        if self.range_style == "open":
            return f"{state.next_offset}-"
        if self.range_style == "closed" and state.size is not None:
            return f"{state.next_offset}-{state.size - 1}"
        return str(state.next_offset)
