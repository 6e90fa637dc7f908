"""The no-JavaScript form as a browser posts it: a filled form with one photo, encoded in memory."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

CANARY = "canary-nojs-7c1d"
PHOTO = b"\xff\xd8" + CANARY.encode() * 100000 + b"\xff\xd9"  # about 1.6 MiB: two sealed parts


def form(token: str, **changes: object) -> dict[str, object]:
    """A filled form with one photo; `changes` override fields."""
    data = {"csrf_token": token, "incident_type": "cctv", "occurred": "2026-03", "location": "Mandalay",
            "description": f"{CANARY} cameras at the junction", "device": "", "website": "",
            "attachments": [(io.BytesIO(PHOTO), "street.jpg", "image/jpeg"),
                            (io.BytesIO(b""), "", "application/octet-stream")]}
    data.update(changes)
    return data


def post(client, data: dict[str, object], path: str = "/report"):
    """POST a multipart form (to /report unless told) as a browser would, encoded in memory (the test client
    would spool to a temp file)."""
    values = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            values.add(key, FileStorage(item[0], item[1], content_type=item[2]) if isinstance(item, tuple) else item)
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
