"""Untrusted text from reports made safe: for a terminal, for JSON, and as a file name in DIR."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200
MAX_EXT_CHARS = 10
# Unicode categories that can move the cursor, change colours, reorder text or hide characters.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
WINDOWS_FORBIDDEN = set('<>:"|?*\\/')
WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                             *(f"LPT{i}" for i in range(10))})
# Extensions a desktop runs, installs, or renders as active content (scripts in a browser) on a double click:
# an exported file keeps its name and gets SAFE_SUFFIX after it, so it opens as text at worst.
ACTIVE_EXTENSIONS = frozenset("""
    exe com scr pif cpl msi msp msc dll sys drv ocx bat cmd ps1 psm1 psd1 ps1xml vbs vbe js jse mjs cjs wsf wsc wsh
    hta lnk url scf reg inf chm hlp gadget application appref jar class jnlp apk xapk aab ipa appimage flatpak snap
    desktop sh bash zsh csh ksh fish command tool run elf so dylib app pkg mpkg dmg deb rpm py pyc pyo pyw pyz
    pl pm rb php phtml phar lua tcl ps psc1 html htm xhtml xht shtml mht mhtml svg svgz xml xsl xslt swf
    docm dotm xlsm xltm xlam pptm potm ppam sldm one iso img vhd vhdx xpi crx library-ms settingcontent-ms
""".split())
SAFE_SUFFIX = ".txt"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def unsafe(char: str) -> bool:
    """Whether a character must not reach a terminal as it is."""
    return unicodedata.category(char) in UNSAFE_CATEGORIES


def terminal_text(text: str, keep_newlines: bool = False) -> str:
    """Escape every control, format and private character, so text cannot drive the terminal."""
    return "".join(c if (keep_newlines and c == "\n") or not unsafe(c) else _escape(c) for c in text)


def safe_json(text: str) -> str:
    """Escape, as JSON \\u escapes, the characters json.dumps(ensure_ascii=False) leaves raw in strings.

    json.dumps already escapes C0 controls inside strings, so a raw newline is its own indentation.
    """
    return "".join(c if c == "\n" or not unsafe(c) else "".join(f"\\u{u:04x}" for u in _utf16(c)) for c in text)


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def file_name(name: str, index: int) -> str:
    """A safe single file name for an untrusted attachment name: no path, no control, bounded length."""
    text = unicodedata.normalize("NFC", name)
    text = "".join("_" if c in WINDOWS_FORBIDDEN else c for c in text if not unsafe(c))
    text = re.sub(r"\.{2,}", ".", re.sub(r"\s+", " ", text)).strip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > MAX_EXT_CHARS or not ext.isalnum():
        stem, ext = text, ""
    stem = _cut(stem, MAX_NAME_CHARS - len(ext) - 1, MAX_NAME_BYTES - len(ext.encode()) - 1).rstrip(" .")
    if not stem or stem.split(".")[0].upper() in WINDOWS_DEVICES:
        stem = f"attachment-{index + 1}" + (f"-{stem}" if stem else "")
    return inert(f"{stem}.{ext}" if ext else stem)


def inert(name: str) -> str:
    """The name with SAFE_SUFFIX after it when it ends in an executable or active extension (`x.exe.txt`)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in ACTIVE_EXTENSIONS:
        return name
    room = len(SAFE_SUFFIX) + len(ext) + 1
    return f"{_cut(stem, MAX_NAME_CHARS - room, MAX_NAME_BYTES - room)}.{ext}{SAFE_SUFFIX}"


def _cut(text: str, chars: int, size: int) -> str:
    """The longest prefix of text within `chars` characters and `size` UTF-8 bytes."""
    text = text[:chars]
    while len(text.encode()) > size:
        text = text[:-1]
    return text


def numbered(name: str, n: int) -> str:
    """`photo.jpg` as its n-th alternative: `photo (n).jpg`."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"


def message_file_name(seq: int, index: int, name: str) -> str:
    """A safe file name for file `index` of message `seq` that says both: `message-3-file-1-photo.jpg`."""
    return file_name(f"message-{seq}-file-{index + 1}-{name}", index)
