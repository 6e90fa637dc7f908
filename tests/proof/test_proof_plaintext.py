"""No plaintext anywhere: every flow with a canary in every field and file, then every byte the server left searched.

Flows: sealed in Chromium with a cut and resumed upload, sealed on the server without JavaScript, sent through
the API and resumed, a status note, export-sealed, key rotation and rewrap, purge. Searched: the database (SQLite
file, WAL and SHM, or a pg_dump), the instance and keys folders, the server's and the commands' temp folders,
/tmp entries made meanwhile, every server log and every admin command's output; plain, UTF-16, base64, hex.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import update

from intake.storage.schema import cases
from tests.support import run_cli
from tests.support.browser import CHROMIUM_ARGS, Watched, wait_receipt
from tests.support.canary import hits, new_canary, temp_entries
from tests.support.keytools import Instance
from tests.support.proof import Reporter
from tests.support.web import Server

pytestmark = [pytest.mark.soak, pytest.mark.browser]


class Flows:
    """The canaries of one run, and the outputs of every command it ran."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.canaries: list[str] = []
        self.outputs: dict[str, bytes] = {}
        self.browser_fields: dict[str, str] = {}

    def canary(self, kind: str) -> str:
        """A new canary, remembered for the search."""
        self.canaries.append(new_canary(kind))
        return self.canaries[-1]

    def fields(self, kind: str) -> dict[str, str]:
        """Every text field of the form, each holding its own canary."""
        return {"incident_type": "cctv", "occurred": self.canary(kind + "d"),
                "location": self.canary(kind + "l"), "description": f"{self.canary(kind + 'x')} a camera van",
                "device": self.canary(kind + "v")}

    def files(self, kind: str, size: int) -> list[tuple[str, str, bytes]]:
        """A large file full of one canary and a small one, each named by another canary."""
        big = self.canary(kind + "f").encode()
        return [(self.canary(kind + "n") + ".txt", "text/plain", (big + b"\n") * (size // (len(big) + 1))),
                (self.canary(kind + "m") + ".jpg", "image/jpeg", b"\xff\xd8" + self.canary(kind + "j").encode())]

    def run(self, name: str, *args: str, admin: bool = False) -> subprocess.CompletedProcess[str]:
        """Run an admin command; keep its output as a log to search."""
        result = self.inst.admin(*args) if admin else self.inst.run(*args)
        self.outputs[f"{name} stdout"] = result.stdout.encode()
        self.outputs[f"{name} stderr"] = result.stderr.encode()
        return result


def browser_flow(flows: Flows, url: str) -> str:
    """Seal a report in Chromium; its first part's connection is cut once, so the page resumes; return the ref."""
    from playwright.sync_api import sync_playwright

    fields = flows.fields("b")
    files = flows.files("b", 5 << 19)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = chromium.new_context()
        watched = Watched(context)
        page = watched.page
        cut: list[str] = []

        def route(request_route) -> None:
            if request_route.request.method == "PUT" and not cut:
                cut.append(request_route.request.url)
                request_route.abort("connectionreset")
            else:
                request_route.continue_()

        page.route("**/api/v1/uploads/**", route)
        page.goto(url + "/")
        page.wait_for_selector("html[data-sealing=ready]")
        for name, value in fields.items():
            if name == "incident_type":
                page.select_option("#incident_type", value)
            else:
                page.fill(f"#{name}", value)
        page.set_input_files("#attachments", [{"name": n, "mimeType": t, "buffer": d} for n, t, d in files])
        page.wait_for_selector("#unclean li")
        page.click("button[type=submit]")
        ref = wait_receipt(page)
        assert cut
        sent = b"".join(watched.bodies)
        context.close()
        chromium.close()
    assert [c for c in flows.canaries if c.encode() in sent] == []
    flows.browser_fields = {**fields, "lang": "en"}  # the page also seals the language it was used in
    return ref


def review(flows: Flows, keys: dict[str, Path], ref: str) -> dict[str, object]:
    """`intake-review show --json` with bob's key (its output is the reviewer's, not a log)."""
    inst = flows.inst
    shown = run_cli("intake-review", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw),
                    "--db", inst.db_url, "show", ref, "--json", cwd=inst.root, env=inst.env)
    return json.loads(shown.stdout)


def pg_dump(db_url: str) -> bytes:
    """A plain pg_dump of the test database."""
    name = db_url.rsplit("/", 1)[1]
    return subprocess.run(["/usr/bin/pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--no-password", name],
                          check=True, capture_output=True, timeout=120).stdout


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_no_plaintext_anywhere(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every flow leaves no canary, in any encoding, in any file, dump or log the server side holds."""
    before = temp_entries()
    root = tmp_path / "site"
    root.mkdir()
    db_url = f"sqlite:///{root / 'instance' / 'intake.db'}" if backend == "sqlite" else request.getfixturevalue(
        "pg_url")
    inst = Instance(root, db_url)
    (root / "cli-tmp").mkdir()
    inst.env.update(TMPDIR=str(root / "cli-tmp"), INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    keys = inst.setup("alice", "bob")
    flows = Flows(inst)
    server = Server(inst.env, root).start()
    try:
        browser_ref = browser_flow(flows, server.url)
        reporter = Reporter(server.url)
        nojs_fields, nojs_files = flows.fields("s"), flows.files("s", 3 << 19)
        nojs_ref = reporter.send_nojs(nojs_fields, nojs_files)
        api_fields, api_files = flows.fields("a"), flows.files("a", 5 << 19)
        api_ref = reporter.send_api(api_fields, api_files, skip_first=True)
        reporter.close()
    finally:
        server.kill()
    if backend == "sqlite":
        wal = [root / "instance" / f"intake.db-{end}" for end in ("wal", "shm")]
        assert all(p.exists() for p in wal), "SIGKILL should leave the WAL and SHM files to search"
        assert hits(wal, flows.canaries) == []
    note = flows.canary("note")
    status = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                     "--db", db_url, "status", nojs_ref, "in review", "--note", note, cwd=root, env=inst.env)
    flows.outputs["status stderr"] = status.stderr.encode()
    shown = {ref: review(flows, keys, ref) for ref in (browser_ref, nojs_ref, api_ref)}
    assert shown[browser_ref]["fields"] == flows.browser_fields
    assert shown[nojs_ref]["fields"] == {**nojs_fields, "lang": "en"}  # the server seals the page's language too
    assert shown[api_ref]["fields"]["description"] == api_fields["description"]
    assert [n["note"] for n in shown[nojs_ref]["notes"]] == [note]
    flows.run("export", "export-sealed", "--out", str(root / "cases.bundle"))
    audit = json.loads(flows.run("audit", "audit", "list", "--json").stdout)
    assert "export-sealed" in [entry["action"] for entry in audit]
    flows.run("rotate", "keys", "rotate", "alice", "--out", str(root / "new"), "--key-passphrase-file",
              str(inst.reviewer_pw), admin=True)
    flows.run("rewrap", "keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw))
    with inst.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.ref == api_ref).values(received=dt.date.today() - dt.timedelta(9)))
    flows.run("purge", "purge", "--older-than", "5", admin=True)
    assert sorted(c["id"] for c in inst.review(keys["bob"]) if c["opened"]) == sorted([browser_ref, nojs_ref])
    inst.engine.dispose()
    dump = {"pg_dump": pg_dump(db_url)} if backend == "postgresql" else {}
    roots = [root, *sorted(temp_entries() - before)]
    assert hits(roots, flows.canaries, {**flows.outputs, **dump}) == []
    assert len(flows.canaries) == 3 * 8 + 1
