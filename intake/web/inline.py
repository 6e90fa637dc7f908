"""The page's own ES modules (intake/static), joined into one inline module script for the offline kit.

The kit is one HTML file opened from a phone's storage, where a module cannot fetch another (and must not:
the kit makes no request of any kind). So the modules the kit needs are joined here, unchanged but for
their `import` and `export` lines: each becomes a function scope whose exports are an object, and each
import a read of that object. The vendored libsodium.js files are joined unchanged but for their one
`import` and their `export` statement. Anything this does not recognise fails the build, never the kit.
"""

from __future__ import annotations

import posixpath
import re
from functools import cache
from pathlib import Path

import rjsmin

STATIC = Path(__file__).resolve().parents[1] / "static"
REGISTRY = "__modules"
IMPORT = re.compile(r'^import\s*(?:\{([^}]*)\}|(\w+))\s*from\s*"([^"]+)";?', re.M)
DYNAMIC = re.compile(r'\bimport\("([^"]+)"\)')
EXPORT_DECL = re.compile(r"^export\s+(async\s+function\s*\*?|function\s*\*?|class|const|let)\s*(\w+)", re.M)
EXPORT_LIST = re.compile(r"export\s*\{([^}]*)\};?")
EXPORT_DEFAULT = re.compile(r"export default (\w+);")


class BuildError(Exception):
    """A module the joiner does not understand: fix the module or the joiner, never ship the kit half-joined."""


def _resolve(importer: str, spec: str) -> str:
    """The path under intake/static that `spec` names, from the module at `importer`."""
    if not spec.startswith("."):
        raise BuildError(f"{importer} imports {spec!r}: the kit joins only relative imports")
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))


def _names(listed: str) -> list[tuple[str, str]]:
    """(local, exported) pairs of an `{a, b as c}` list."""
    pairs = []
    for item in filter(None, (part.strip() for part in listed.split(","))):
        local, _, exported = item.partition(" as ")
        pairs.append((local.strip(), (exported or local).strip()))
    return pairs


def _imports(path: str, text: str, known: set[str]) -> str:
    """Replace each static import by a read of the module already joined, and each dynamic one by a promise of it."""
    def static(match: re.Match[str]) -> str:
        target = _resolve(path, match.group(3))
        if target not in known:
            raise BuildError(f"{path} imports {target}, which is not joined before it")
        if match.group(2):
            return f'const {match.group(2)} = {REGISTRY}["{target}"].default;'
        pairs = ", ".join(f"{exported}: {local}" for exported, local in _names(match.group(1)))
        return f'const {{ {pairs} }} = {REGISTRY}["{target}"];'

    def dynamic(match: re.Match[str]) -> str:
        target = _resolve(path, match.group(1))
        if target not in known:
            raise BuildError(f"{path} imports {target} when it runs, which the kit does not join")
        return f'Promise.resolve({REGISTRY}["{target}"])'

    return DYNAMIC.sub(dynamic, IMPORT.sub(static, text))


def _exports(path: str, text: str) -> tuple[str, list[tuple[str, str]]]:
    """The module without its export keywords and statements, and its (local, exported) names."""
    names = [(m.group(2), m.group(2)) for m in EXPORT_DECL.finditer(text)]
    text = EXPORT_DECL.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)  # `function* f` as `function* f`
    for m in EXPORT_DEFAULT.finditer(text):
        names.append((m.group(1), "default"))
    text = EXPORT_DEFAULT.sub("", text)
    for m in EXPORT_LIST.finditer(text):
        names.extend(_names(m.group(1)))
    text = EXPORT_LIST.sub("", text)
    if not path.startswith("vendor/") and re.search(r"(^|[;}\s])export\b", text):
        raise BuildError(f"{path} has an export the kit's joiner does not read")
    return text, names


def _slim(path: str, text: str) -> str:
    """Our own modules minified by rjsmin (comments and spaces only, names kept); vendored files stay as they are.
    Each import and export statement is put on a line of its own again, as the joiner reads them."""
    if path.startswith("vendor/"):
        return text
    small = rjsmin.jsmin(text)
    return re.sub(r"([;}])(?=(import|export)\b)", "\\1\n", small)


def join(paths: tuple[str, ...], entry: str) -> str:
    """One module script: each of `paths` (dependencies first) in its own scope, then `entry` at the top level."""
    known: set[str] = set()
    out = [f"const {REGISTRY} = {{}};"]
    for path in paths:
        text = _imports(path, _slim(path, (STATIC / path).read_text(encoding="utf-8")), known)
        body, names = _exports(path, text)
        members = ", ".join(f"{exported}: {local}" for local, exported in names)
        out.append(f'{REGISTRY}["{path}"] = (() => {{\n{body}\nreturn {{ {members} }};\n}})();')
        known.add(path)
    entry_text = _imports(entry, _slim(entry, (STATIC / entry).read_text(encoding="utf-8")), known)
    if re.search(r"(^|[;}\s])export\b", entry_text):
        raise BuildError(f"{entry} is the entry: it exports nothing")
    out.append(entry_text)
    return "\n".join(out) + "\n"


@cache
def kit_script() -> str:
    """The offline kit's script: libsodium.js, the page's sealing, cleaning and codename modules, then js/kit.js."""
    return join(KIT_MODULES, "js/kit.js")


KIT_MODULES = ("vendor/libsodium-sumo-0.8.4.mjs", "vendor/libsodium-wrappers-sumo-0.8.4.mjs", "js/bodyjson.js",
               "js/seal.js", "js/codename.js", "js/metadata.js", "js/provenance.js", "js/files.js", "js/parts.js")
