"""Helpers for the two-way tests: reading a receipt's codename, checking back without JavaScript, reviewer commands."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import requests

from tests.support import run_cli
from tests.support.keytools import Instance

CODENAME = re.compile(r'id="codename">([0-9 ]{29})<')
SEALED = re.compile(r'name="sealed" value="([^"]+)"')
GROUP = re.compile(r"type group (\d) of your codename")
MESSAGES = re.compile(r'<p class="text">([^<]*)</p>')
STATUS = re.compile(r'id="case-status" role="status">([^<]*)<')
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(page: str) -> str:
    """The form token a page carries in its forms (there is no cookie)."""
    return FORM_TOKEN.search(page).group(1)


def check_nojs(http: requests.Session, url: str, **form: str) -> requests.Response:
    """POST /check as a browser without JavaScript, with the form token of the /check page."""
    token = form_token(http.get(url + "/check", timeout=60).text)
    return http.post(url + "/check", data={"csrf_token": token, **form}, timeout=120)


def texts(page: str) -> list[str]:
    """The message texts a thread page shows, oldest first."""
    return [html.unescape(t) for t in MESSAGES.findall(page)]


class Team:
    """The reviewers' side of a thread: `intake-review` as real processes on the instance's database."""

    def __init__(self, inst: Instance, key: Path) -> None:
        self.inst, self.key = inst, key
        self.outputs: dict[str, bytes] = {}

    def review(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `intake-review --identity KEY --db URL ARGS`; keep its stderr as a log to search."""
        result = run_cli("intake-review", "--identity", str(self.key), "--passphrase-file", str(self.inst.reviewer_pw),
                         "--db", self.inst.db_url, *args, cwd=self.inst.root, env=self.inst.env, check=check)
        self.outputs[f"{args[0]} stderr {len(self.outputs)}"] = result.stderr.encode()
        return result

    def reply(self, ref: str, text: str) -> None:
        """Seal and store a reply with the real command."""
        self.review("reply", ref, "--text", text, "--keys-dir", str(self.inst.root / "keys"))

    def thread(self, ref: str) -> list[dict[str, object]]:
        """`show REF --json`'s thread."""
        return json.loads(self.review("show", ref, "--json").stdout)["thread"]

    def unread(self) -> dict[str, bool]:
        """`list --json`: which cases have unread reporter messages."""
        return {row["id"]: row["unread"] for row in json.loads(self.review("list", "--json").stdout)}
