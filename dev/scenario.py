"""The seed pages' examples, sent by the official Python SDK (msgraph-sdk).

Used three ways: ``make cassettes`` records them through graphtape against the local stand-in
(answering with the documented responses), ``make demo`` replays the bundled cassettes with them, and
the tests drive the proxy with them. The addresses that the docs obfuscate (``[email protected]``)
are given plausible contoso.com values.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import AccessToken

MIME_SEND = (
    "From: Alex Wilber <AlexW@M365x765140.OnMicrosoft.com>\n"
    "To: Megan Bowen <MeganB@M365x765140.OnMicrosoft.com>\n"
    "Subject: Internal Resume Submission: Sales Associate\n"
    "Thread-Topic: Internal Resume Submission: Sales Associate\n"
    "Thread-Index: AQHXDt+LptFrN+qH7UGBQ9bFSr1kcw==\n"
    "Date: Sun, 28 Feb 2021 07:15:00 +0000\n"
    "Message-ID:\n\t<MWHPR130MB2191102140D76D9C2822622790AD9A9@MWHPR1301MB2191.namprd13.prod.outlook.com>\n"
    "Content-Language: en-US\n"
    "X-MS-Has-Attach:\n"
    "X-MS-TNEF-Correlator:\n"
    "X-MS-Exchange-Organization-RecordReviewCfmType: 0\n"
    'Content-Type: text/plain; charset="iso-8859-1"\n'
    "Content-Transfer-Encoding: quoted-printable\n"
    "MIME-Version: 1.0\n"
    "\n"
    "Hi, Megan.\n\nI have an interest in the Sales Associate position. Please consider my resu=\n"
    "me, which you can access here...\n\nBest Regards,\nAlex"
)
MIME_CREATE = (
    "From: Alex Wilber <AlexW@contoso.com>\n"
    "To: Megan Bowen <MeganB@contoso.com>\n"
    "Subject: Internal Resume Submission: Sales Associate\n"
    "Thread-Topic: Internal Resume Submission: Sales Associate\n"
    "Date: Sun, 28 Feb 2021 07:15:00 +0000\n"
    "Content-Language: en-US\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "MIME-Version: 1.0\n"
    "\n"
    "Hi, Megan.\n\nI have an interest in the Sales Associate position.\n\nBest Regards,\nAlex\n"
)


def mime_b64(text: str, wrap: int = 0) -> bytes:
    b64 = base64.b64encode(text.encode("latin-1")).decode("ascii")
    if wrap:
        return "\n".join(b64[i : i + wrap] for i in range(0, len(b64), wrap)).encode() + b"\n"
    return b64.encode()


def _recipient(address: str, name: str | None = None) -> dict[str, Any]:
    ea: dict[str, Any] = {"address": address}
    if name:
        ea["name"] = name
    return {"emailAddress": ea}


def _message(msg_id: str, version: str, subject: str, body: dict[str, str], to: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    doc = {
        "@odata.context": f"https://graph.microsoft.com/{version}/$metadata#users('ad787b4f-1fda-4523-8e48-"
                          "ffedb7f4635f')/messages/$entity",
        "@odata.etag": 'W/"CQAAABYAAAAmXr9SsE/UR4PcnTZcg7qWAAAFS12t"',
        "id": msg_id,
        "createdDateTime": "2017-12-23T07:29:57Z",
        "lastModifiedDateTime": "2017-12-23T07:29:58Z",
        "changeKey": "CQAAABYAAAAmXr9SsE/UR4PcnTZcg7qWAAAFS12t",
        "categories": [],
        "hasAttachments": False,
        "subject": subject,
        "importance": "normal",
        "isRead": True,
        "isDraft": True,
        "body": body,
        "toRecipients": to,
        "ccRecipients": [],
        "bccRecipients": [],
        "replyTo": [],
        "flag": {"flagStatus": "notFlagged"},
    }
    doc.update(extra)
    return doc


@dataclass(frozen=True)
class Example:
    """One seed example: the cassette it lives in, and the documented answer."""

    name: str  # cassette file stem
    title: str
    status: int
    response: dict[str, Any] | None


EXAMPLES: tuple[Example, ...] = (
    Example("create-draft-json", "Create a message draft in JSON (Create Message, example 1)", 201,
            _message("AAMkAGRWAAAFSmKXAAA=", "beta", "Did you see last night's game?",
                     {"contentType": "html", "content": "<html><body>They were <b>awesome</b>!</body></html>"},
                     [_recipient("AdeleV@contoso.com", "Adele Vance")], importance="low")),
    Example("create-draft-mention", "Create a draft with an @-mention (Create Message, example 2, beta)", 201,
            _message("AQMkADJmMTUAAAW1fsAAAAA=", "beta", "Party planning", {"contentType": "text", "content": ""},
                     [_recipient("SamanthaB@contoso.com", "Samantha Booth")],
                     mentions=[{"id": "4577bba4-b063-4cea-9073-6f7ca815fcec",
                                "mentioned": {"name": "Dana Swope", "address": "DanaS@contoso.com"},
                                "createdBy": {"name": "Randi Welch", "address": "RandiW@contoso.com"},
                                "createdDateTime": "2016-07-22T02:22:44Z"}])),
    Example("create-draft-headers", "Create a draft with custom Internet headers (Create Message, example 3)", 201,
            _message("AAMkADhNmAAA=", "beta", "9/8/2018: concert",
                     {"contentType": "html", "content": "<html><body>The group represents Washington.</body></html>"},
                     [_recipient("AlexW@contoso.com", "Alex Wilber")])),
    Example("create-draft-mime", "Create a message draft in MIME (Create Message, example 4)", 201,
            _message("AAMkADA1MTAAAAqldOAAA=", "v1.0", "Internal Resume Submission: Sales Associate",
                     {"contentType": "text", "content": "Hi, Megan.I have an interest in the Sales Associate "
                                                        "position. Best Regards,Alex"},
                     [_recipient("MeganB@contoso.com", "Megan Bowen")])),
    Example("send-draft", "Send an existing draft (message: send, example 1)", 202, None),
    Example("sendmail-mime", "Send a new message in MIME (message: send, example 2)", 202, None),
    Example("create-draft-mime-malformed", "Malformed MIME gets the documented 400 (Create Message)", 400,
            {"error": {"code": "ErrorMimeContentInvalidBase64String",
                       "message": "Invalid base64 string for MIME content."}}),
)


class StaticTokenCredential:
    """An async azure-core credential that hands out a fixed token: for offline clients and tests."""

    def __init__(self, token: str = "offline-token"):
        self.token = token

    async def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                        enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def make_client(token: str = "offline-token", base_url: str | None = None) -> Any:
    """A GraphServiceClient; it honours HTTPS_PROXY and SSL_CERT_FILE from the environment."""
    from msgraph import GraphServiceClient

    client = GraphServiceClient(credentials=StaticTokenCredential(token),
                                scopes=["https://graph.microsoft.com/.default"])
    if base_url:
        client.request_adapter.base_url = base_url
    return client


async def send_mime(client: Any, path: str, body: bytes, want_message: bool) -> Any:
    """POST a base64 MIME body: the SDK has no typed call for it, so build the request by hand."""
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    info = RequestInformation(Method.POST, "{+baseurl}" + path, {})
    info.headers.try_add("Accept", "application/json")
    info.set_stream_content(body, "text/plain")
    errors = {"XXX": ODataError}
    if want_message:
        return await client.request_adapter.send_async(info, Message, errors)
    return await client.request_adapter.send_no_response_content_async(info, errors)


async def run_example(name: str, client: Any) -> str:
    """Send one seed example with the SDK; returns a one-line result."""
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.importance import Importance
    from msgraph.generated.models.internet_message_header import InternetMessageHeader
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    def rcpt(address: str, display: str | None = None) -> Recipient:
        return Recipient(email_address=EmailAddress(address=address, name=display))

    base = client.request_adapter.base_url
    beta = client if "/beta" in base else make_client(base_url=base.replace("/v1.0", "/beta"))
    if name == "create-draft-json":
        m = await beta.me.messages.post(Message(
            subject="Did you see last night's game?", importance=Importance.Low,
            body=ItemBody(content_type=BodyType.Html, content="They were <b>awesome</b>!"),
            to_recipients=[rcpt("AdeleV@contoso.com")]))
        return f"draft {m.id} '{m.subject}'"
    if name == "create-draft-mention":
        msg = Message(subject="Party planning", to_recipients=[rcpt("SamanthaB@contoso.com", "Samantha Booth")])
        msg.additional_data = {"mentions": [{"mentioned": {"name": "Dana Swope", "address": "DanaS@contoso.com"}}]}
        m = await beta.me.messages.post(msg)
        return f"draft {m.id} '{m.subject}' with {len(m.additional_data.get('mentions', []))} mention(s)"
    if name == "create-draft-headers":
        m = await beta.me.messages.post(Message(
            subject="9/8/2018: concert",
            body=ItemBody(content_type=BodyType.Html, content="The group represents Washington."),
            to_recipients=[rcpt("AlexW@contoso.com")],
            internet_message_headers=[InternetMessageHeader(name="x-custom-header-group-name", value="Washington"),
                                      InternetMessageHeader(name="x-custom-header-group-id", value="WA001")]))
        return f"draft {m.id} '{m.subject}'"
    if name == "create-draft-mime":
        m = await send_mime(client, "/me/messages", mime_b64(MIME_CREATE, wrap=76), want_message=True)
        return f"draft {m.id} '{m.subject}' from MIME"
    if name == "send-draft":
        await beta.me.messages.by_message_id("AAMkAGRWAAAFSmKXAAA=").send.post()
        return "sent (202)"
    if name == "sendmail-mime":
        await send_mime(client, "/me/sendMail", mime_b64(MIME_SEND), want_message=False)
        return "sent (202)"
    if name == "create-draft-mime-malformed":
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        try:
            await send_mime(client, "/me/messages", b"RnJvbTogQWxleCBXaWxiZXI=!!not base64!!", want_message=True)
        except ODataError as e:
            err = e.error
            return f"refused {e.response_status_code} {err.code if err else '?'}: {err.message if err else ''}"
        return "unexpectedly accepted"
    raise KeyError(name)

