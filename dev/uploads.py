"""Clients of an upload session (createUploadSession, then chunk PUTs to the uploadUrl), for tests and the bench.

Two: a plain HTTP client doing the chunked PUTs itself as the Graph docs show (``upload_plain``, httpx or
requests), and the official SDK's ``LargeFileUploadTask`` (msgraph-core), as an app would use it (``sdk_upload``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024
CHUNK = 4 * MB  # Graph's largest chunk (attachment-createuploadsession)
GRAPH = "https://graph.microsoft.com/v1.0"
MESSAGE_ID = "AAMkAGRWAAAFSmKXAAA="


@dataclass(frozen=True)
class Answer:
    status: int
    location: str | None
    body: Any  # the JSON answered, or None


def session_body(name: str, size: int) -> dict[str, Any]:
    return {"AttachmentItem": {"attachmentType": "file", "name": name, "size": size}}


def chunks(size: int, step: int = CHUNK) -> Iterator[tuple[int, int]]:
    """(start, end inclusive) of each chunk, in order."""
    for start in range(0, size, step):
        yield start, min(start + step, size) - 1


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def upload_plain(post: Callable[..., Any], put: Callable[..., Any], data: bytes, *, graph: str = GRAPH,
                 upload_host: str | None = None, step: int = CHUNK) -> list[Answer]:
    """createUploadSession, then one PUT per chunk (no Authorization), with ``post``/``put`` of an httpx or
    requests client; the answers in order. ``upload_host`` sends the PUTs to another base URL than the
    uploadUrl's (the bench's baseline, straight to the stand-in)."""
    created = post(f"{graph}/me/messages/{MESSAGE_ID}/attachments/createUploadSession",
                   json=session_body("report.bin", len(data)), headers={"Authorization": "Bearer not-a-real-token"})
    answers = [Answer(created.status_code, None, _json(created.text))]
    url = answers[0].body["uploadUrl"]
    if upload_host:
        url = upload_host + url[url.index("/", len("https://")):]
    for start, end in chunks(len(data), step):
        r = put(url, data=data[start:end + 1], headers={"Content-Range": f"bytes {start}-{end}/{len(data)}",
                                                          "Content-Type": "application/octet-stream"})
        answers.append(Answer(r.status_code, r.headers.get("Location"), _json(r.text)))
    return answers


async def sdk_upload(client: Any, data: bytes, *, step: int = CHUNK) -> str:
    """The SDK's way: create the session with msgraph-sdk, upload with msgraph-core's LargeFileUploadTask.
    Returns what the app sees: the result's location, or the error the task raised."""
    from msgraph.generated.models.attachment_item import AttachmentItem
    from msgraph.generated.models.attachment_type import AttachmentType
    from msgraph.generated.users.item.messages.item.attachments.create_upload_session.create_upload_session_post_request_body import (  # noqa: E501
        CreateUploadSessionPostRequestBody,
    )
    from msgraph_core.tasks.large_file_upload import LargeFileUploadTask

    body = CreateUploadSessionPostRequestBody(attachment_item=AttachmentItem(
        attachment_type=AttachmentType.File, name="report.bin", size=len(data)))
    session = await client.me.messages.by_message_id(MESSAGE_ID).attachments.create_upload_session.post(body)
    task = LargeFileUploadTask(session, client.request_adapter, io.BytesIO(data), max_chunk_size=step)
    try:
        result = await task.upload()
    except Exception as e:  # what the app would see
        return f"raised {type(e).__name__}: {e}"
    return f"uploaded: location={result.location is not None}, item_response={result.item_response!r}"
