"""The pages' words (static/i18n.js): each key once per language, and every key in both.

A key given twice in one language is not an error in JavaScript: the later one silently
wins, so one panel's label replaces another's (the trends' "谷时充电占比%" once replaced the
orderly panel's "谷电占比"). A key missing in one language shows the key itself."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import chargenet.adapters.api as api

WORDS = Path(api.__file__).parent / "static" / "i18n.js"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`|' + r"'(?:[^'\\]|\\.)*'")
_KEY = re.compile(r"(?:^|[\s,{])([a-z_][a-z0-9_]*):", re.M)


def _keys(language: str) -> list[str]:
    text = WORDS.read_text(encoding="utf-8")
    words = text[text.index("const WORDS = {") : text.index("\n};")]
    start = words.index(f"\n  {language}: {{") + len(f"\n  {language}: {{")
    end = words.find("\n  },", start)
    block = "\n".join(
        line for line in words[start:end].splitlines() if not line.strip().startswith("//")
    )
    return _KEY.findall(_STRING.sub('""', block))


def test_no_word_is_given_twice_in_a_language() -> None:
    for language in ("zh", "en"):
        twice = sorted(k for k, n in Counter(_keys(language)).items() if n > 1)
        assert twice == [], f"{language}: {twice}"


def test_every_word_has_both_languages() -> None:
    zh, en = set(_keys("zh")), set(_keys("en"))
    assert len(zh) > 200
    assert sorted(zh - en) == [] and sorted(en - zh) == []
