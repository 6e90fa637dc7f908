"""check.html: the contact sheet a person reads before anything is published. No script, no outside resource.

Each photo is shown as published (never a crop of the original), with the hidden regions outlined and counted.
A stranger's text (file names, fields) is escaped, its bidi and control characters written out.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from html import escape

from intake.publish.redact import Redacted
from intake.review.names import terminal_text

STYLE = ("body{font-family:sans-serif;margin:2em;max-width:70em}figure{margin:1em 0 2em}img{max-width:100%;"
         "border:1px solid #999}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em;"
         "text-align:left;vertical-align:top;white-space:pre-wrap;word-break:break-word}"
         ".warn{border:3px solid #b00;padding:.5em 1em}")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()  # CSP: this style only


@dataclass
class Photo:
    """One attachment as the sheet shows it: published (with its outlined copy) or not, and why."""

    label: str
    name: str
    kind: str
    published: str | None = None
    outlined: str | None = None
    regions: int = 0
    rounds: int = 0
    notes: list[str] = field(default_factory=list)
    why: str | None = None


def _e(value: object) -> str:
    """A stranger's text, escaped for HTML, with bidi and control characters written as escapes."""
    return escape(terminal_text("" if value is None else str(value), keep_newlines=True))


def _photo(p: Photo) -> str:
    notes = "".join(f"<br>{_e(n)}" for n in p.notes)
    regions = "1 region" if p.regions == 1 else f"{p.regions} regions"
    return (f'<figure><img src="{escape(p.outlined or "")}" alt="{escape(p.label)} as published, hidden regions '
            f'outlined"><figcaption><b>{escape(p.published or "")}</b>: {escape(p.label)} '
            f'(&ldquo;<bdi>{_e(p.name)}</bdi>&rdquo;): <b>{regions} hidden</b>, outlined and numbered '
            f'(the detectors found nothing more after {p.rounds} rounds).{notes}</figcaption></figure>')


def contact_sheet(ref: str, photos: list[Photo], fields: list[Redacted], words: int) -> str:
    """The whole page."""
    shown = [p for p in photos if p.published]
    left = [p for p in photos if not p.published]
    rows = "".join(f"<tr><td>{escape(p.label)}</td><td><bdi>{_e(p.name)}</bdi></td><td>{_e(p.kind)}</td>"
                   f"<td>{_e(p.why)}</td></tr>" for p in left)
    text = "".join(f"<tr><td>{_e(f.name)}</td><td>{_e(f.text) if f.text is not None else ''}</td>"
                   f"<td>{f.count}</td><td>{_e(f.note or '')}</td></tr>" for f in fields)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src '{STYLE_HASH}'">
<meta name="referrer" content="no-referrer">
<title>Check before publishing: case {_e(ref)}</title><style>{STYLE}</style></head><body>
<h1>Check before publishing: case {_e(ref)}</h1>
<div class="warn"><p><b>Automatic detection misses faces</b>: faces seen from the side, small or far away, masked,
in the dark, blurred by motion, or partly hidden. A person must look at every photo below, whole, before any of
publication/ is published, and hide by hand what was missed (faces, tattoos, name tags, number plates,
reflections, a house or street that names a place). The outlined regions were filled in solid black.</p></div>
<h2>Photos ({len(shown)} published)</h2>
{''.join(_photo(p) for p in shown) or '<p>No photo was published.</p>'}
<h2>Not published ({len(left)})</h2>
{f'<table><tr><th>file</th><th>name</th><th>type</th><th>why</th></tr>{rows}</table>' if left else '<p>None.</p>'}
<h2>The text as published (publication/report.txt)</h2>
<p>{words} word{'' if words == 1 else 's'} or phrase{'' if words == 1 else 's'} given to --redact; each span found
is replaced by the same marker. Read the text for names and places the list missed.</p>
<table><tr><th>field</th><th>published text</th><th>replaced</th><th>note</th></tr>{text}</table>
</body></html>
"""
