"""check.html in Chromium from file://: the outlined photos load, its own style applies, no script runs, nothing
outside the folder is asked for, and the policy is never violated, whatever the names and fields say."""

from __future__ import annotations

import pytest

from tests.support import photos
from tests.support.browser import Watched
from tests.support.reviewkit import Reviewer, signed_keyring, store

pytestmark = pytest.mark.browser
SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
MARKUP = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


@SQLITE
def test_check_page_from_file(browser, tmp_path, engine, db_url):
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    files = [(f"{MARKUP}.jpg", "image/jpeg", photos.plain_jpeg((160, 120), 1)),
             ("clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64))]
    ref = store(engine, [alice.recipient], files, {"description": MARKUP, "location": "\u202eevil"})
    out = tmp_path / "out"
    alice.run("publish", ref, "--out", str(out), where=("--db", db_url, "--keys-dir", keys_dir, "--signer", signer))
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    watched = Watched(context)
    requests: list[str] = []
    watched.page.on("request", lambda request: requests.append(request.url))
    watched.page.goto((out / "check.html").as_uri())
    watched.page.wait_for_load_state("load")
    page = watched.page
    images = page.locator("img").all()
    assert len(images) == 1
    assert images[0].evaluate("i => i.complete && i.naturalWidth > 0")
    assert page.evaluate("getComputedStyle(document.querySelector('.warn')).borderTopStyle") == "solid"
    assert page.title().startswith("Check before publishing")
    assert page.locator("script").count() == 0
    assert "not published: blur by hand" in page.inner_text("body")
    assert MARKUP in page.inner_text("body")  # shown as text, never run
    watched.check()
    assert [u for u in requests if not u.startswith(out.as_uri() + "/")] == []
    context.close()
