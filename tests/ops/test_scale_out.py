"""Scale out: two real `intake serve` nodes (2 workers each) on one PostgreSQL database.

Each node has its own instance and keys folders holding only copies of what docs/deploy.md (step 16)
says every node must share, `secret.key` and `keyring.json` (tests/support/nodes.py), and passes
`intake check`. Reports sent to both at once are all stored once and open; the flood guards are
one for both nodes; a form token or challenge of one node is good on the other, not on a node with
another key; a keyring change is followed by every node or refused by it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.crypto.report import seal_report
from intake.crypto.stream import PART
from intake.storage.schema import cases
from intake.web.keyring_watch import NEWEST_CHECK
from tests.support import ROOT
from tests.support.nodes import SHARED_FILES, deliver, nodes
from tests.support.proof import RECEIPT, Reporter, open_all, stored_whole
from tests.support.web import BIG, make_site, open_stored, rows, solve

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
CLIENTS, REPORTS = 8, 25

# --- The flood guards shared by every node (docs/web.md, "Floods"): spent work and the day's bytes live in the
# database; the load estimate and the no-JS budget are per worker, in memory, so they are not tested as shared.
DAILY_BYTES = 1 << 20  # the smallest daily byte budget the settings take
PHOTO = 200_000  # each burst report carries one file this big, so a few fill the day's budget


def guard_env(daily_bytes: int = 50 << 30) -> dict[str, str]:
    """The settings of the flood guards: cheap proof of work and `daily_bytes` a day for browser-sealed reports."""
    return {"INTAKE_POW_BITS": "4", "INTAKE_DAILY_BYTES": str(daily_bytes)}


def solved(reporter: Reporter, node: str) -> dict[str, str]:
    """A challenge issued by `node`, solved: the members of an API post that carry the proof of work."""
    challenge = reporter.http.get(node + "/api/v1/challenge", timeout=reporter.timeout).json()
    return {"pow_challenge": challenge["challenge"], "pow_nonce": solve(challenge["challenge"], challenge["bits"])}


def is_replay_refusal(response) -> bool:
    """Whether a node refused a report because its proof of work was already spent."""
    return response.status_code == 400 and "already used" in response.json()["error"]


def is_forged_refusal(response) -> bool:
    """Whether a node refused a report because its challenge was not one this service signed."""
    return response.status_code == 400 and "not valid" in response.json()["error"]


def is_budget_refusal(response) -> bool:
    """Whether a node refused a report because the service's bytes for today were spent."""
    return response.status_code == 503 and "today" in response.json()["error"]


def is_form_token_refusal(response) -> bool:
    """Whether a post was refused for its form token: the API's JSON error, or the form back with its error."""
    if response.status_code != 400 or RECEIPT.search(response.text):
        return False
    return "form expired" in response.text  # the API tells it in the page's wording too (issue 20 item 5)


def test_the_deploy_guide_copies_the_shared_files() -> None:
    """docs/deploy.md's step 16 copies exactly the files these nodes are given."""
    (line,) = [ln for ln in (ROOT / "docs" / "deploy.md").read_text().splitlines() if "-cf /root/intake-node.tar" in ln]
    assert line.split("intake-node.tar ", 1)[1].split() == list(SHARED_FILES)


def report(uid: str, n: int) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
    """A small report; every third carries a small photo."""
    files = [(f"{uid}.jpg", "image/jpeg", uid.encode() * 50)] if n % 3 == 0 else []
    return {"incident_type": "drone", "description": uid, "location": "Mandalay", "occurred": "", "device": ""}, files


def client(urls: list[str], number: int, tag: str, receipts: list, errors: list) -> None:
    """One reporter: report n goes to node n mod len(urls), through the API or the no-JS form in turn."""
    reporters = [Reporter(url) for url in urls]
    try:
        for n in range(REPORTS):
            uid = f"{tag}{number}-r{n}"
            fields, files = report(uid, n)
            reporter = reporters[n % len(reporters)]
            try:
                ref = reporter.send_api(fields, files) if (n // 2 + number) % 2 else reporter.send_nojs(fields, files)
            except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
                errors.append(f"{uid} to {reporter.url}: {type(exc).__name__}: {str(exc)[:300]}")
                continue
            receipts.append((ref, uid))
    finally:
        for reporter in reporters:
            reporter.close()


def load(urls: list[str], tag: str, receipts: list, errors: list) -> float:
    """CLIENTS reporters at once, REPORTS each, spread over `urls`; return the seconds it took."""
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(urls, i, tag, receipts, errors)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a client hung"
    return time.monotonic() - started


@pytest.mark.serial  # 8 reporters on two nodes load the whole machine; loaded more, a connection was reset
def test_two_nodes_take_reports_at_once(tmp_path: Path, pg_url: str) -> None:
    """8 reporters x 25 reports, twice on one node and twice over two: each receipt is one case opening to its report.

    Prints the ratio of reports per second over two nodes to one node (the same reports, the same machine).
    """
    site = make_site(tmp_path, pg_url)
    receipts: list[tuple[str, str]] = []
    errors: list[str] = []
    seconds = Counter()
    with nodes(site, tmp_path, guard_env()) as (a, b):
        for run, urls in enumerate([[a.url], [a.url, b.url]] * 2):  # alternated, so that warming up favours neither
            seconds[len(urls)] += load(urls, f"n{len(urls)}-{run}-c", receipts, errors)
    assert errors == []
    assert len(receipts) == 4 * CLIENTS * REPORTS
    assert len({ref for ref, _ in receipts}) == len(receipts)
    assert rows(site.engine)["cases"] == len(receipts)
    assert stored_whole(site.engine) == []
    opened = open_all(site.engine, site.identities)
    assert Counter(fields["description"] for fields, _ in opened.values()).most_common(1)[0][1] == 1
    for ref, uid in receipts:
        fields, files = opened[ref]
        assert fields["description"] == uid
        assert files == [(name, data) for name, _, data in report(uid, int(uid.split("-r")[1]))[1]]
    print(f"\nreports/s, two nodes over one node: {seconds[1] / seconds[2]:.2f}")
    site.engine.dispose()


def test_one_flood_budget_for_both_nodes(tmp_path: Path, pg_url: str) -> None:
    """A challenge spent on A is refused on B; the day's byte budget holds across both nodes, not once per node."""
    site = make_site(tmp_path, pg_url)
    with nodes(site, tmp_path, guard_env(DAILY_BYTES)) as (a, b):
        first = Reporter(a.url)
        proof = solved(first, a.url)
        small = seal(first)
        sealed = first.begin(small, **proof)
        assert sealed.status_code == 201, sealed.text
        first.url = b.url
        assert is_replay_refusal(first.begin(seal(first), **proof))
        first.url = a.url
        assert is_replay_refusal(first.begin(seal(first), **proof))
        big = seal_big(first)
        first.close()
        outcomes: list[tuple[str, int]] = []
        threads = [threading.Thread(target=burst, args=([a.url, b.url], i, outcomes)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert len(outcomes) == 8 * 2, "a burst client failed or hung"
    statuses = Counter(status for _, status in outcomes)
    assert set(statuses) <= {201, 503}, statuses
    fits = (DAILY_BYTES - size(small)) // size(big)  # what one budget for the whole service lets in
    assert 0 < fits < 8
    # one budget, not one a node (that would let in twice as many); a refused upload's header and body were
    # counted as it began, which may leave one report fewer room
    assert fits - 1 <= statuses[201] <= fits, statuses
    assert {url for url, status in outcomes if status == 503} == {a.url, b.url}
    with site.engine.connect() as conn:  # an upload refused as its part arrived stays, incomplete, until it expires
        stored = conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(True))).scalar_one()
    assert stored == 1 + statuses[201]
    site.engine.dispose()


def size(report) -> int:
    """The bytes a sealed report counts against the day's budget: header, body and streams."""
    return len(report.header) + len(report.body) + sum(len(s) for s in report.streams)


def seal(reporter: Reporter):
    """A small report with no file, sealed to the keyring the reporter fetched."""
    return seal_report(reporter.recipients, report("small", 1)[0], [])


def seal_big(reporter: Reporter):
    """A report with one file of PHOTO bytes, sealed to the keyring the reporter fetched."""
    return seal_report(reporter.recipients, report("big", 1)[0], [("p.jpg", "image/jpeg", [b"x" * PHOTO])])


def burst(urls: list[str], number: int, outcomes: list[tuple[str, int]]) -> None:
    """Two large reports as fast as possible, one to each node, through the API (begun, their part sent, completed);
    record 201 for each completed, or the budget's 503 where it was refused (as it began, or as its part arrived:
    the day counts bytes as they arrive)."""
    reporters = [Reporter(url) for url in urls]
    try:
        for n in range(2):
            reporter = reporters[(n + number) % 2]
            big = seal_big(reporter)
            response = reporter.begin(big)
            if response.status_code == 201:
                upload = response.json()["upload"]
                response = reporter.put(upload, 0, 0, big.streams[0])
                if response.status_code == 204:
                    response = reporter.complete(upload)
                    assert response.status_code == 200, response.text
                    response.status_code = 201
            assert response.status_code == 201 or is_budget_refusal(response), response.text
            outcomes.append((reporter.url, response.status_code))
    finally:
        for reporter in reporters:
            reporter.close()


def test_tokens_of_one_node_are_good_on_the_other(tmp_path: Path, pg_url: str) -> None:
    """A's form token and challenge are good on B (same secret.key), refused by C (its own); uploads move nodes."""
    site = make_site(tmp_path, pg_url)
    with nodes(site, tmp_path, guard_env(), ("node-a", "node-b", "node-c"), (True, True, False)) as (a, b, c):
        reporter = Reporter(a.url)
        proof = solved(reporter, a.url)
        reporter.url = b.url
        made = reporter.begin(seal(reporter), **proof)
        assert made.status_code == 201, made.text
        posted = reporter.post_nojs(*report("from-a-to-b", 1), token=reporter.form_token(a.url))
        assert posted.status_code == 200, posted.text[-2000:]
        refs = {made.json()["ref"], RECEIPT.search(posted.text).group(1), across(reporter, a.url, b.url)}
        reporter.url = c.url
        assert is_form_token_refusal(reporter.begin(seal(reporter), **solved(reporter, a.url)))
        assert is_form_token_refusal(reporter.post_nojs(*report("from-a-to-c", 1), token=reporter.form_token(a.url)))
        reporter.close()
        own = Reporter(c.url)
        assert is_forged_refusal(own.begin(seal(own), **solved(own, a.url)))
        own.close()
    assert set(open_all(site.engine, site.identities)) == refs
    assert rows(site.engine)["cases"] == 3
    assert stored_whole(site.engine) == []
    site.engine.dispose()


def across(reporter: Reporter, first: str, second: str) -> str:
    """An upload begun on `first`, its parts sent to `second`, completed on `first`; return its ref."""
    sealed = seal_report(reporter.recipients, report("across", 0)[0], [("clip.mp4", "video/mp4", [BIG])])
    reporter.url = first
    made = reporter.begin(sealed)
    assert made.status_code == 201, made.text
    reporter.url = second
    for idx, stream in enumerate(sealed.streams):
        for number in range(-(-len(stream) // PART)):
            put = reporter.put(made.json()["upload"], idx, number, stream[number * PART:(number + 1) * PART])
            assert put.status_code == 204, put.text
    reporter.url = first
    done = reporter.complete(made.json()["upload"])
    assert done.status_code == 200, done.text
    return done.json()["ref"]


def stale(reporter: Reporter, url: str) -> bool:
    """Whether the node at `url` refuses reports and serves no keyring (503 on both)."""
    posted = reporter.http.post(url + "/report", data={"csrf_token": reporter.token, "website": "",
                                                       **report("stale", 1)[0]}, timeout=30)
    return posted.status_code == 503 and reporter.http.get(url + "/keyring.json", timeout=30).status_code == 503


def test_a_keyring_change_reaches_every_node_and_never_goes_back(tmp_path: Path, pg_url: str) -> None:
    """Once one node uses a new keyring, the others refuse reports until it is copied to them; never the older one."""
    site = make_site(tmp_path, pg_url)
    older = (site.settings.keys_dir / "keyring.json").read_bytes()
    with nodes(site, tmp_path, guard_env()) as (a, b):
        on_b = Reporter(b.url)
        newcomer = site.add_reviewer()
        newer = (site.settings.keys_dir / "keyring.json").read_bytes()
        deliver(newer, a)
        on_a = Reporter(a.url)
        ref = on_a.send_nojs(*report("after-a-took-it", 1))
        on_a.close()
        assert open_stored(site.engine, ref, [newcomer])[0]["description"] == "after-a-took-it"
        time.sleep(NEWEST_CHECK)  # B, not yet given the new file, stops sealing to the older keyring
        for _ in range(4):  # whichever of B's workers answers
            assert stale(on_b, b.url)
        deliver(older, b)  # a stale copy, or an attacker's: the database knows serial 2 is in use
        assert stale(on_b, b.url)
        deliver(newer, b)
        assert on_b.http.get(b.url + "/keyring.json", timeout=30).json()["serial"] == 2
        ref_b = on_b.send_nojs(*report("after-b-took-it", 1))
        assert open_stored(site.engine, ref_b, [newcomer])[0]["description"] == "after-b-took-it"
        on_b.close()
    assert rows(site.engine)["cases"] == 2
    site.engine.dispose()
