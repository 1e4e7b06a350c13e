"""A HAR as browser devtools (or Dev Proxy) saves one: every call of a page, raw cookies, bearer tokens, an upload
session's ``?authtoken=``, response bodies base64-encoded. Secrets are built at run time (no token-shaped literal
in the repo)."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from conftest import _b64url


def jwt(subject: str) -> str:
    return ".".join([_b64url(b'{"typ":"JWT","alg":"RS256"}'), _b64url(json.dumps({"sub": subject}).encode()),
                     _b64url(secrets.token_bytes(24))])


class Secrets:
    def __init__(self) -> None:
        self.bearer = jwt("graph-user")
        self.upload = jwt("upload-session")
        self.cookie = secrets.token_hex(20)
        self.refresh = secrets.token_hex(24)

    def all(self) -> list[str]:
        return [self.bearer, self.upload, self.cookie, self.refresh]


def _headers(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def _entry(method: str, url: str, req_headers: list[tuple[str, str]], status: int, body: bytes, *,
           content_type: str = "application/json", post: str | None = None,
           resp_headers: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/2", "headers": _headers(req_headers),
                               "cookies": [], "queryString": [], "headersSize": -1, "bodySize": len(post or "")}
    if post is not None:
        request["postData"] = {"mimeType": dict(req_headers).get("Content-Type", ""), "text": post}
    return {"startedDateTime": "2026-11-30T09:15:00.123Z", "time": 42.5, "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2",
                         "headers": _headers([("Content-Type", content_type), *resp_headers]), "cookies": [],
                         "content": {"size": len(body), "mimeType": content_type,
                                     "text": base64.b64encode(body).decode(), "encoding": "base64"},
                         "redirectURL": "", "headersSize": -1, "bodySize": len(body)},
            "cache": {}, "timings": {"send": 1, "wait": 40, "receive": 1.5}}


def devtools_har(s: Secrets, mime_b64: str, *, leaked_note: bool = False) -> dict[str, Any]:
    graph = "https://graph.microsoft.com/v1.0"
    upload = (f"https://outlook.office.com/api/v2.0/Users('u1')/Messages('AAMkAD1=')/AttachmentSessions('s1')"
              f"?authtoken={s.upload}")
    auth = [("Authorization", f"Bearer {s.bearer}"), ("Cookie", f"OpenIdConnect.token.v1={s.cookie}; x-ms-gateway=1")]
    messages = {"value": [{"id": "AAMkAD1=", "subject": "Quarterly report"}]}
    if leaked_note:  # a token in a field no redaction rule names: the scan must refuse the call
        messages["value"][0]["bodyPreview"] = f"see {s.bearer}"
    entries = [
        _entry("GET", "https://outlook.office.com/mail/", [("Cookie", f"ClientId={s.cookie}")], 200, b"<html></html>",
               content_type="text/html", resp_headers=(("Set-Cookie", f"X-OWA-CANARY={s.cookie}; path=/"),)),
        _entry("POST", "https://login.microsoftonline.com/common/oauth2/v2.0/token",
               [("Content-Type", "application/x-www-form-urlencoded")], 200,
               json.dumps({"access_token": s.bearer, "refresh_token": s.refresh}).encode(),
               post=f"grant_type=refresh_token&refresh_token={s.refresh}"),
        _entry("GET", f"{graph}/me/messages?$top=1", auth, 200, json.dumps(messages).encode(),
               resp_headers=(("Set-Cookie", f"fpc={s.cookie}; secure"),)),
        _entry("POST", f"{graph}/me/messages/AAMkAD1=/attachments/createUploadSession",
               [*auth, ("Content-Type", "application/json")], 201,
               json.dumps({"uploadUrl": upload, "nextExpectedRanges": ["0-"]}).encode(),
               post=json.dumps({"AttachmentItem": {"attachmentType": "file", "name": "a.bin", "size": 4}})),
        _entry("PUT", upload, [("Content-Range", "bytes 0-3/4"), ("Content-Type", "application/octet-stream")], 201,
               b"", post="abcd"),
        _entry("POST", f"{graph}/me/sendMail", [*auth, ("Content-Type", "text/plain")], 202, b"", post=mime_b64),
    ]
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [],
                    "entries": entries}}
