"""Zawgyi: detection, the sealed body's `zawgyi` member (docs/format.md §5.1), and the no-JavaScript flag."""

from __future__ import annotations

import io
import json

import nacl.utils
import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from intake.crypto.envelope import Body, open_body, seal_body
from intake.crypto.report import open_report
from intake.storage.cases import get_case
from intake.text.zawgyi import field_warnings, is_zawgyi, to_unicode, zawgyi_fields
from tests.support.web import csrf_token

ZAWGYI = "ေနျပည္ေတာ္ ဇူလုိင္ ၂၆ ႏိုင္ငံေတာ္၏ ရဲစခန္းအနီးတြင္ ဒ႐ုန္းတစ္စင္း ပ်ံေနသည္"
ZAWGYI_AS_UNICODE = "နေပြည်တော် ဇူလိုင် ၂၆ နိုင်ငံတော်၏ ရဲစခန်းအနီးတွင် ဒရုန်းတစ်စင်း ပျံနေသည်"
UNICODE = "ရဲစခန်းအနီးတွင် ဒရုန်းတစ်စင်း ပျံနေသည်။ ကင်မရာများ တပ်ထားသည်။"


def test_detection_and_conversion() -> None:
    """Zawgyi is found, Unicode Burmese, Khmer and English are not; ICU converts Zawgyi to Unicode."""
    assert is_zawgyi(ZAWGYI)
    for text in (UNICODE, "ប៉ូលិសបានថតរូបយើង", "cameras at the junction", ""):
        assert not is_zawgyi(text), text
    assert to_unicode(ZAWGYI) == ZAWGYI_AS_UNICODE
    assert zawgyi_fields({"location": UNICODE, "description": ZAWGYI}) == ["description"]
    [warning] = field_warnings({"location": UNICODE, "description": ZAWGYI})
    assert warning["field"] == "description"
    assert "Zawgyi" in warning["warning"]
    assert warning["unicode"] == ZAWGYI_AS_UNICODE
    flagged = field_warnings({"device": "x", "description": UNICODE}, ("device", "no such field"))
    assert [w["field"] for w in flagged] == ["device"]


def raw_body(key: bytes, data: dict[str, object]) -> bytes:
    """A body sealed around hand-made JSON, as a hostile sender could write it."""
    class Raw(Body):
        def to_json(self) -> bytes:
            return json.dumps(data).encode()

    return seal_body(key, Raw({}))


def test_body_member_round_trip_and_hostile_values() -> None:
    """`zawgyi` survives sealing; left out when empty; a malformed one is ignored, never a damaged body."""
    key = nacl.utils.random(32)
    fields = {"description": ZAWGYI, "location": "Yangon"}
    assert open_body(key, seal_body(key, Body(fields, zawgyi=("description",)))).zawgyi == ("description",)
    assert b"zawgyi" not in Body(fields).to_json()
    base = {"version": 1, "fields": fields, "attachments": [], "reply_key": None}
    for value, expected in ((["description", "nope", {"a": 1}, ["x"], 7], ("description",)), ("description", ()),
                            ({"description": True}, ()), (None, ())):
        assert open_body(key, raw_body(key, {**base, "zawgyi": value})).zawgyi == expected, value


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("text", "flag"), [(ZAWGYI, ("description",)), (UNICODE, ())])
def test_no_javascript_post_flags_zawgyi_inside_the_sealed_body(client, site, text, flag):
    """Without JavaScript the server checks the text in memory and records the flag only in the sealed body."""
    values = MultiDict({"csrf_token": csrf_token(client), "incident_type": "drone", "description": text,
                        "location": "Mandalay", "website": ""})
    values.add("attachments", FileStorage(io.BytesIO(b""), "", content_type="application/octet-stream"))
    boundary, body = encode_multipart(values)
    response = client.post("/report", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200
    ref = response.get_data(as_text=True).split('id="receipt">')[1].split("<")[0]
    case = get_case(site.engine, ref)
    assert b"zawgyi" not in case.header
    assert open_report(case.header, case.body, 0, site.identities[:1]).body.zawgyi == flag
