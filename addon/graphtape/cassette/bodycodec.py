"""How a body is written in a cassette, readable and lossless.

A body node is one of (``None`` for an empty body)::

    {json: <value>, style: compact|spaced}          JSON as a YAML mapping
     [base64_mime: [{at, wrap, newline,             and a $batch's base64 MIME item bodies (requests/N/body,
                     final_newline}]]               responses/N/body) as their RFC 5322 text, in place
    {mime: <RFC 5322 text>, encoding: base64,       a base64 MIME body, stored decoded;
     wrap: 76, newline: lf, final_newline: true}    re-encoded byte for byte on replay
    {text: <str>, newline: crlf}                    other UTF-8 text (a text whose every line ends
                                                    CRLF, as a message's MIME $value, stored with LF)
    {base64: <str>}                                 anything else (an attachment's $value), in lines of 76

``encode_body`` picks the most readable form that decodes back to the same bytes, so what a
client sent or a server answered is served again exactly as it was.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from graphtape.bodies.kinds import decode_base64_mime, is_json_type, is_mime_upload_type, looks_like_rfc5322

BodyNode = dict[str, Any] | None

_JSON_STYLES: dict[str, dict[str, Any]] = {
    "compact": {"separators": (",", ":"), "ensure_ascii": False},
    "spaced": {"separators": (", ", ": "), "ensure_ascii": False},
    "compact-ascii": {"separators": (",", ":"), "ensure_ascii": True},
    "spaced-ascii": {"separators": (", ", ": "), "ensure_ascii": True},
    "indent2": {"indent": 2, "ensure_ascii": False},
    "indent4": {"indent": 4, "ensure_ascii": False},
}


# Each form's keys, the form's own first (a test keeps this in step with decode_body).
BODY_FORMS: dict[str, tuple[str, ...]] = {
    "json": ("json", "style", "base64_mime"),
    "mime": ("mime", "encoding", "wrap", "newline", "final_newline"),
    "text": ("text", "newline"),
    "base64": ("base64",),
}

_NEWLINES = {"lf": "\n", "crlf": "\r\n"}
_NEWLINE_NAMES = {v: k for k, v in _NEWLINES.items()}


class BodyFormatError(ValueError):
    """A body node in a cassette that cannot be turned back into bytes."""


def dump_json(value: Any, style: str) -> bytes:
    try:
        opts = _JSON_STYLES[style]
    except KeyError:
        raise BodyFormatError(
            f"unknown JSON style {style!r} (known: {', '.join(_JSON_STYLES)})"
        ) from None
    try:
        return json.dumps(value, allow_nan=False, **opts).encode("utf-8")
    except ValueError:
        raise BodyFormatError("JSON has no NaN or Infinity (.nan, .inf); write a number or a string") from None


MAX_JSON_DEPTH = 100


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _json_node(body: bytes) -> BodyNode:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if _too_deep(value):
        return None  # YAML's loader recurses per level: a very deep tree is kept as text instead
    for style in _JSON_STYLES:
        try:
            if dump_json(value, style) == body:
                return _with_mime_items({"json": value, "style": style}, body)
        except (ValueError, RecursionError):
            return None
    return None


_ITEM_LISTS = ("requests", "responses")  # a $batch request's and answer's items (bodies.batch)


def _with_mime_items(node: dict[str, Any], body: bytes) -> dict[str, Any]:
    """A JSON node whose $batch items' base64 MIME bodies are lifted to their text, if that gives back ``body``."""
    value = node["json"]
    if not isinstance(value, dict):
        return node
    lifted, entries = dict(value), []
    for name in _ITEM_LISTS:
        items = value.get(name)
        if not isinstance(items, list):
            continue
        copies = list(items)
        for index, item in enumerate(items):
            text = item.get("body") if isinstance(item, dict) else None
            mime = _mime_node(text.encode("utf-8")) if isinstance(text, str) and text else None
            if mime is not None:
                copies[index] = {**item, "body": mime["mime"]}
                entries.append({"at": f"/{name}/{index}/body", "wrap": mime["wrap"], "newline": mime["newline"],
                                "final_newline": mime["final_newline"]})
        lifted[name] = copies
    if not entries:
        return node
    out = {**node, "json": lifted, "base64_mime": entries}
    try:
        return out if decode_body(out) == body else node
    except BodyFormatError:
        return node


def _lower_mime_items(value: Any, entries: Any) -> Any:
    """The JSON value with each lifted MIME text (``base64_mime``) base64-encoded again, as it was sent."""
    if not isinstance(entries, list) or not entries:
        raise BodyFormatError("body.base64_mime must be a list of {at, wrap, newline, final_newline}")
    if not isinstance(value, dict):
        raise BodyFormatError("body.base64_mime needs body.json to be a mapping with requests or responses")
    out = dict(value)
    for entry in entries:
        at = entry.get("at") if isinstance(entry, dict) else None
        parts = at.split("/") if isinstance(at, str) else []
        if len(parts) != 4 or parts[0] or parts[1] not in _ITEM_LISTS or not parts[2].isdigit() or parts[3] != "body":
            raise BodyFormatError(f"body.base64_mime: 'at' must be /requests/N/body or /responses/N/body, not {at!r}")
        unknown = sorted(set(entry) - {"at", "wrap", "newline", "final_newline"})
        if unknown:
            raise BodyFormatError(f"body.base64_mime: unknown key(s) {unknown}; an entry has at, wrap, newline, "
                                  "final_newline")
        items, index = out.get(parts[1]), int(parts[2])
        if not isinstance(items, list) or index >= len(items) or not isinstance(items[index], dict) \
                or not isinstance(items[index].get("body"), str):
            raise BodyFormatError(f"body.base64_mime: {at} is not a string body in body.json")
        items = out[parts[1]] = list(items)
        mime = {"mime": items[index]["body"], **{k: v for k, v in entry.items() if k != "at"}}
        items[index] = {**items[index], "body": _decode_mime_node(mime).decode("ascii")}
    return out


def base64_layout(body: bytes) -> tuple[int, str, bool] | None:
    """(wrap width, newline, final newline) of a base64 body laid out in regular lines."""
    newline = "\r\n" if b"\r\n" in body else "\n"
    final = body.endswith(newline.encode())
    text = body.decode("ascii")
    lines = text.split(newline)
    if final:
        lines = lines[:-1]
    if not lines:
        return None
    wrap = len(lines[0]) if len(lines) > 1 else 0
    return wrap, newline, final


def encode_base64_layout(data: bytes, wrap: int, newline: str, final_newline: bool) -> bytes:
    b64 = base64.b64encode(data).decode("ascii")
    lines = [b64[i : i + wrap] for i in range(0, len(b64), wrap)] if wrap > 0 else [b64]
    text = newline.join(lines) + (newline if final_newline else "")
    return text.encode("ascii")


def _mime_node(body: bytes) -> BodyNode:
    decoded = decode_base64_mime(body)
    if decoded is None or not looks_like_rfc5322(decoded):
        return None
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return None
    layout = base64_layout(body)
    if layout is None:
        return None
    wrap, newline, final = layout
    if encode_base64_layout(decoded, wrap, newline, final) != body:
        return None
    return {"mime": text, "encoding": "base64", "wrap": wrap, "newline": _NEWLINE_NAMES[newline],
            "final_newline": final}


def _text_node(body: bytes) -> BodyNode:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text) or "\ufeff" in text:
        return None
    crlf = text.count("\r\n")
    if crlf and crlf == text.count("\n") == text.count("\r"):  # CRLF throughout: YAML can show it as a block
        return {"text": text.replace("\r\n", "\n"), "newline": "crlf"}
    return {"text": text}


def encode_body(body: bytes, content_type: str) -> BodyNode:
    """The cassette node for ``body`` (decoded bytes) sent with ``content_type``."""
    if not body:
        return None
    if is_json_type(content_type) or body[:1] in (b"{", b"["):
        node = _json_node(body)
        if node is not None:
            return node
    if is_mime_upload_type(content_type) or not content_type:
        node = _mime_node(body)
        if node is not None:
            return node
    node = _text_node(body)
    if node is not None:
        return node
    return {"base64": base64.encodebytes(body).decode("ascii")}  # lines of 76: a YAML block, not one long line


def decode_body(node: Any) -> bytes:
    """Bytes for a cassette body node; raises BodyFormatError naming what is wrong."""
    if node is None:
        return b""
    if not isinstance(node, dict):
        raise BodyFormatError("a body must be a mapping with one of json, mime, text, base64 (or null)")
    if "json" in node:
        value = node["json"]
        if "base64_mime" in node:
            value = _lower_mime_items(value, node["base64_mime"])
        return dump_json(value, str(node.get("style", "compact")))
    if "mime" in node:
        return _decode_mime_node(node)
    if "text" in node:
        return _decode_text_node(node)
    if "base64" in node:
        try:  # in lines (or one line, as older cassettes have it)
            return base64.b64decode("".join(str(node["base64"]).split()), validate=True)
        except ValueError as e:
            raise BodyFormatError(f"body.base64 is not valid base64: {e}") from None
    raise BodyFormatError(f"unknown body form {sorted(node)}; expected one of json, mime, text, base64")


def _decode_text_node(node: dict[str, Any]) -> bytes:
    if not isinstance(node["text"], str):
        raise BodyFormatError("body.text must be a string")
    newline = node.get("newline", "lf")
    if newline not in _NEWLINES:
        raise BodyFormatError(f"body.newline must be lf or crlf, not {newline!r}")
    text = node["text"].replace("\n", "\r\n") if newline == "crlf" else node["text"]
    return text.encode("utf-8")


def _decode_mime_node(node: dict[str, Any]) -> bytes:
    if not isinstance(node["mime"], str):
        raise BodyFormatError("body.mime must be a string (the RFC 5322 message text)")
    if node.get("encoding", "base64") != "base64":
        raise BodyFormatError(f"body.encoding {node.get('encoding')!r} is not supported (only base64)")
    wrap = node.get("wrap", 0)
    newline = _NEWLINES.get(node.get("newline", "lf"))
    if not isinstance(wrap, int) or isinstance(wrap, bool) or wrap < 0:
        # any width: encode_body keeps whatever regular width the client wrapped at (76, 64, 75, ...)
        raise BodyFormatError(f"body.wrap must be 0 or a positive line width, not {wrap!r}")
    if newline is None:
        raise BodyFormatError(f"body.newline must be lf or crlf, not {node.get('newline')!r}")
    return encode_base64_layout(
        node["mime"].encode("utf-8"), wrap, newline, bool(node.get("final_newline", False))
    )
