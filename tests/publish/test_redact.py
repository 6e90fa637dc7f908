"""--redact: literal words in any script and case, as substrings, through invisible characters and Zawgyi."""

from __future__ import annotations

import unicodedata

import pytest

from intake.publish.redact import MARKER, BadWords, pattern, redact_fields


def redact(text: str, *words: str) -> str:
    """`text` as published with `words` redacted."""
    return redact_fields({"description": text}, (), pattern(words))[0].text


@pytest.mark.parametrize(("text", "words", "published"), [
    ("Officer SOK Dara, sok dara and Sok  Dara", ("sok dara",), f"Officer {MARKER}, {MARKER} and {MARKER}"),
    ("across a line: Sok\nDara", ("sok dara",), f"across a line: {MARKER}"),
    ("a.*b and a.b and axxb", (".*",), f"a{MARKER}b and a.b and axxb"),
    ("(x|y) x y", ("(x|y)",), f"{MARKER} x y"),
    ("[abc] a b c", ("[abc]",), f"{MARKER} a b c"),
    ("back\\slash \\d 1", ("\\d",), f"back\\slash {MARKER} 1"),
    ("$1 ^start end$", ("$1", "^start"), f"{MARKER} {MARKER} end$"),
    ("ΣΟΚ ΔΑΡΑ σοκ", ("σοκ δαρα",), f"{MARKER} σοκ"),
    ("МИЛИЦИЯ и милиция", ("милиция",), f"{MARKER} и {MARKER}"),
    ("ប៉ូលីសសុខដារ៉ាបានមក", ("សុខដារ៉ា",), f"ប៉ូលីស{MARKER}បានមក"),  # Khmer: no spaces, a name inside a run
    ("ရဲအရာရှိကိုအောင်ကြည်လာတယ်", ("ကိုအောင်ကြည်",), f"ရဲအရာရှိ{MARKER}လာတယ်"),  # Burmese likewise
    ("សុ\u200bខ ដា\u200cរ៉ា", ("សុខ", "ដារ៉ា"), f"{MARKER} {MARKER}"),  # zero-width space and non-joiner between letters
    ("S\u00adok Da\u2060ra", ("sok dara",), MARKER),  # soft hyphen, word joiner
    ("Sok Dara and Sok", ("sok", "sok dara"), f"{MARKER} and {MARKER}"),  # the longest first
])
def test_words_are_found_literally_in_any_script(text, words, published):
    assert redact(text, *words) == published


def test_text_and_words_compared_in_nfc():
    """A word typed decomposed finds the text composed, and the other way round."""
    composed = "Café Ngô"
    decomposed = unicodedata.normalize("NFD", composed)
    assert redact(f"at {composed}", decomposed) == f"at {MARKER}"
    assert redact(f"at {decomposed}", composed) == f"at {MARKER}"


def test_counts_and_untouched_fields():
    """Each field says how many spans were replaced; no word, no change (and no pattern)."""
    done = redact_fields({"a": "x Sok y sok", "b": "nothing", "n": 3}, (), pattern(["sok"]))
    assert [(f.name, f.text, f.count) for f in done] == [("a", f"x {MARKER} y {MARKER}", 2), ("b", "nothing", 0)]
    assert pattern([]) is None
    assert redact_fields({"a": "Sok"}, (), None)[0].text == "Sok"


@pytest.mark.parametrize(("words", "message"), [
    (["\u200b"], "no visible letter"), (["  "], "no visible letter"), ([""], "no visible letter"),
    (["x" * 201], "longer than 200"), (["w"] * 201, "more than 200"),
])
def test_unusable_words_refused(words, message):
    with pytest.raises(BadWords, match=message):
        pattern(words)


def test_a_zawgyi_field_is_converted_then_redacted():
    """Burmese typed in Zawgyi is published as its Unicode conversion, so that a name typed in Unicode is found."""
    from intake.text.zawgyi import is_zawgyi, to_unicode

    zawgyi = ("\u1000\u102d\u102f\u1031\u1021\u102c\u1004\u1039\u1000\u103a\u100a\u1039 "
              "\u1031\u101b\u102c\u1000\u1039\u101c\u102c\u1010\u101a\u1039")
    assert is_zawgyi(zawgyi)
    unicode = to_unicode(zawgyi)
    name = unicode.split()[0]
    done = redact_fields({"description": zawgyi}, (), pattern([name]))[0]
    assert done.text.startswith(MARKER)
    assert done.note == "probably Zawgyi: published as its Unicode conversion"
    assert done.count == 1


def test_a_zawgyi_field_is_withheld_without_the_converter(monkeypatch):
    """Without PyICU a Zawgyi field cannot be searched for Unicode words: it is not published at all."""
    from intake.text import zawgyi

    monkeypatch.setattr(zawgyi, "to_unicode", lambda text: None)
    text = "\u1000\u102d\u102f\u1031\u1021\u102c\u1004\u1039\u1000\u103a\u100a\u1039"
    done = redact_fields({"description": text, "location": "Yangon"}, ["description"], pattern(["x"]))
    assert done[0].text is None
    assert "not published: probably Zawgyi" in done[0].note
    assert done[1].text == "Yangon"


@pytest.mark.parametrize(("text", "words", "published"), [
    ("J\ufe0fohn", ("john",), MARKER),  # a variation selector between letters
    ("J\U000e0041o\U000e007fhn", ("john",), MARKER),  # tag characters
    ("J\u3164ohn Jo\u180bhn Joh\uffa0n", ("john",), f"{MARKER} {MARKER} {MARKER}"),  # Hangul fillers, Mongolian FVS
    ("ＪＯＨＮ and 𝐉𝐨𝐡𝐧", ("john",), f"{MARKER} and {MARKER}"),  # fullwidth and mathematical letters (NFKC)
    ("at the ﬁre station", ("fire",), f"at the {MARKER} station"),  # a ligature in the text
    ("Sok\u200bDara and SokDara", ("sok dara",), f"{MARKER} and {MARKER}"),  # Khmer: ZWSP or nothing between words
    ("សុខ\u200bដារ៉ា មក", ("សុខ ដារ៉ា",), f"{MARKER} មក"),
    ("[redacted] Redacted", ("redacted",), f"[{MARKER}] {MARKER}"),  # the marker's own word: each span once
    ("Sok Dara", ("  sok   dara ",), MARKER),  # spaces around and inside a value
])
def test_invisible_and_compatibility_forms_do_not_escape(text, words, published):
    """Found by rt-publish: each of these left the name in report.txt before the fix."""
    assert redact(text, *words) == published


def test_a_long_run_of_invisibles_stays_linear():
    """The gaps never sit next to each other, so a text of 100,000 invisible characters does not backtrack."""
    assert redact("s" + "\u200b" * 100_000 + "x", "sok dara").startswith("s")
