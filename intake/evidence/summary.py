"""summary.html of an evidence package: one printable page, no JavaScript, every reporter's text escaped."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from intake.review.names import terminal_text

STYLE = ("body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;width:100%}"
         "td,th{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top;word-break:break-all}"
         ".note{font-style:italic}@media print{a{color:inherit}}")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()  # CSP: this style only


def _e(value: object) -> str:
    """Reporter's text, escaped for HTML, with bidi and control characters written out (they cannot reorder a line)."""
    return escape(terminal_text("" if value is None else str(value)))


def _row(*cells: object, head: bool = False) -> str:
    tag = "th" if head else "td"
    return "<tr>" + "".join(f"<{tag}>{_e(c)}</{tag}>" for c in cells) + "</tr>"


def _anchor(anchor: object) -> str:
    """The anchor's proofs as rows, what they prove, and what is not anchored."""
    if not isinstance(anchor, dict):
        return "<p>None: the package was made before intake anchored days.</p>"
    rows = [_row("item", "day", "root", "timestamp token", head=True)]
    for i in anchor["items"]:
        proof, files = i.get("proof") or {}, i.get("files") or {}
        rows.append(_row(i["what"], proof.get("day", ""), proof.get("root", ""), i.get("problem") or
                         files.get("timestamp") or ("partial anchor: no timestamp yet" if proof.get("partial") else
                                                    "no timestamp")))
    note = f"<p>{_e(anchor['note'])}</p>" if anchor.get("note") else ""
    return f"<p>{_e(anchor['proves'])}</p>{note}<table>{''.join(rows)}</table>"


def summary_html(manifest: dict[str, object]) -> str:
    """The package described for a person: case, files with both hashes, what they claim, custody, how to check."""
    files = manifest["files"]
    rows = [_row("#", "name", "type, size", "original SHA-256", "sealed SHA-256 (evidentiary copy)",
                 "working copy", "capture metadata (supplied by the reporter, not verified)", "proof of origin",
                 head=True)]
    for f in files:  # type: ignore[union-attr]
        ev, wc = f["evidentiary_copy"], f["working_copy"]
        meta = f.get("capture_metadata") or {}
        claimed = "; ".join(f"{k}: {v}" for k, v in meta.items() if k != "status" and v)
        rows.append(_row(f["index"], f"{f['name']}" + (f" → {ev['path']}" if ev else ""),
                         f"{f['type']}, {f['size']} bytes", f["original_sha256"] or "not recorded",
                         f["sealed_sha256"], f"{wc['path']} {wc['sha256']}" if wc else
                         f.get("working_copy_problem") or f.get("problem") or "none",
                         claimed or "none found", "; ".join(f"{k}: {v}" for k, v in (f.get("provenance") or {}).items())
                         or "none found"))
    custody = manifest["custody"]
    chain = [_row("#", "day", "action", "reviewer key", "detail", "hashes", "link (SHA-256)", head=True)]
    chain += [_row(e["seq"], e["day"], e["action"], e["by"], e["detail"],
                   "; ".join(f"{k}: {v}" for k, v in e["hashes"].items()), e["link"])
              for e in custody["entries"]]  # type: ignore[index]
    state = "intact" if custody["intact"] else "BROKEN: " + "; ".join(custody["problems"])  # type: ignore[index]
    history = "".join(_row(h["day"], h["status"], h["from"]) for h in manifest["status_history"])  # type: ignore[union-attr]
    fields = "".join(_row(k, v) for k, v in manifest["fields"].items())  # type: ignore[union-attr]
    zawgyi = "".join(_row(z["field"], z["unicode"] or "no converter") for z in manifest["zawgyi"])  # type: ignore[union-attr]
    anchor = _anchor(manifest.get("anchor"))
    sig = manifest["signature"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src '{STYLE_HASH}'">
<title>Evidence package {_e(manifest['case'])}</title><style>{STYLE}</style></head><body>
<h1>Evidence package of case {_e(manifest['case'])}</h1>
<p>Received {_e(manifest['received'])} (intake stores no finer time). Package made {_e(manifest['made'])}.
Current status: {_e(manifest['status'])}. Sealed by: {_e(manifest['sealed_by'])}.</p>
<p>Signed by the key with fingerprint <b>{_e(sig['fingerprint'])}</b> (namespace {_e(sig['namespace'])}): compare it
with the fingerprint the organisation publishes. VERIFY.txt says how to check every hash and the signature.</p>
<h2>Files</h2><p class="note">Evidentiary copies (evidence/) are the files byte for byte as sealed. Working copies
(working-copies/) were rebuilt without metadata for reading: they are not the evidence.</p>
<table>{''.join(rows)}</table>
<h2>Status history</h2><table>{_row('day', 'status', 'from', head=True)}{history}</table>
<h2>Anchor: existence by a day</h2>{anchor}
<h2>Chain of custody ({_e(state)})</h2><table>{''.join(chain)}</table>
<h2>The report as written (untrusted)</h2><table>{fields}</table>
{f'<h2>Probably typed in Zawgyi: Unicode conversions</h2><table>{zawgyi}</table>' if zawgyi else ''}
</body></html>
"""
