"""Prompt templates and themes (data in ``poetbench/data/prompts.toml``) and theme derivation."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from poetbench.words import CYRILLIC, morph, words

_DATA = "prompts.toml"


TEMPLATE_FIELDS = ("theme", "author_name")


def check_template(template, name: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> None:
    """A prompt template may hold only ``{theme}`` and ``{author_name}`` (no format specs, no
    conversions, no other fields); literal braces are written ``{{`` and ``}}``."""
    import string

    from poetbench.errors import ConfigError

    if not isinstance(template, str) or not template.strip():
        raise ConfigError(f"must be a non-empty string, got {template!r}", field=name)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ConfigError(f"{e} in {template!r} (write a literal brace as {{{{ or }}}})", field=name) from None
    seen = set()
    for _, fname, spec, conversion in parts:
        if fname is None:
            continue
        if fname not in allowed:
            raise ConfigError(f"unknown placeholder {{{fname}}}; allowed: " + ", ".join(f"{{{a}}}" for a in allowed),
                              field=name)
        if spec or conversion:
            raise ConfigError(f"placeholder {{{fname}}} may not carry a format spec or conversion", field=name)
        seen.add(fname)
    missing = [r for r in required if r not in seen]
    if missing:
        raise ConfigError("must contain " + " and ".join(f"{{{m}}}" for m in missing), field=name)


@dataclass(frozen=True)
class PromptSet:
    version: int
    eval_template: str
    train_template: str
    generic_template: str
    themes: tuple[str, ...] = field(default_factory=tuple)
    anon_template: str = "Напиши стихотворение на тему '{theme}'."  # (data/prompts.toml has the real default)

    def __post_init__(self):
        from poetbench.errors import ConfigError

        if not isinstance(self.version, int) or isinstance(self.version, bool):
            raise ConfigError(f"must be an integer, got {self.version!r}", field="version")
        for name, allowed in (("eval_template", TEMPLATE_FIELDS), ("train_template", TEMPLATE_FIELDS),
                              ("generic_template", ("theme",)), ("anon_template", ("theme",))):
            check_template(getattr(self, name), name, allowed, required=allowed)
        if not isinstance(self.themes, tuple) or not self.themes or not all(
                isinstance(t, str) and t.strip() for t in self.themes):
            raise ConfigError("must be a non-empty list of non-empty strings", field="themes")

    def train_prompt(self, theme: str, author_name: str) -> str:
        return self.train_template.format(theme=theme, author_name=author_name)

    def eval_prompt(self, theme: str, author_name: str) -> str:
        return self.eval_template.format(theme=theme, author_name=author_name)

    def generic_prompt(self, theme: str) -> str:
        return self.generic_template.format(theme=theme)

    def anon_prompt(self, theme: str) -> str:
        """The evaluation prompt without the poet's name (``eval --controls``)."""
        return self.anon_template.format(theme=theme)

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "eval_template": self.eval_template,
            "train_template": self.train_template,
            "generic_template": self.generic_template,
        }


@lru_cache(maxsize=1)
def default_prompts() -> PromptSet:
    data = tomllib.loads(resources.files("poetbench.data").joinpath(_DATA).read_text(encoding="utf-8"))
    return PromptSet(
        version=data["version"],
        eval_template=data["eval_template"],
        train_template=data["train_template"],
        generic_template=data["generic_template"],
        themes=tuple(data["themes"]),
        anon_template=data["anon_template"],
    )


_NUMBERING = re.compile(r"^\s*(?:[IVXLC]+|\d+)[.)]\s*")
_INCIPIT = re.compile(r'^["«„“].*|.*(?:…|\.\.)["»“”]?$')
# Nouns too general to name what a poem is about.
_GENERIC_NOUNS = frozenset("""
    день раз час год время дело слово человек мир жизнь глаз рука друг душа сердце бог
""".split())


@lru_cache(maxsize=200_000)
def _noun_lemma(word: str) -> str | None:
    """Lemma of a common noun (most probable parse), or None. Cached: word frequencies are Zipfian."""
    parse = morph().parse(word)[0]
    tag = parse.tag
    if tag.POS != "NOUN" or {"Name", "Surn", "Patr", "Geox", "Abbr"} & tag.grammemes:
        return None
    lemma = parse.normal_form
    return lemma if len(lemma) >= 3 else None


def salient_noun(text: str) -> str | None:
    """The most frequent noun lemma of the poem (ties: first seen), skipping proper names and a few
    nouns too general to be a theme unless nothing else is there."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, word in enumerate(words(text)):
        lemma = _noun_lemma(word)
        if lemma is None:
            continue
        counts[lemma] += 1
        first.setdefault(lemma, i)
    if not counts:
        return None
    ranked = sorted(counts, key=lambda w: (w in _GENERIC_NOUNS, -counts[w], first[w]))
    return ranked[0]


def theme_for_poem(title: str | None, text: str, max_title_words: int = 4) -> str:
    """The theme a training prompt names: the poem's title when it is short, else its most salient
    noun lemma (pymorphy3), else a neutral fallback."""
    # A quoted first line ending in an ellipsis is how editions name untitled poems: not a title.
    if title and not _INCIPIT.match(title.strip()):
        cleaned = _NUMBERING.sub("", title).strip(" .«»\"'")
        if cleaned and len(cleaned.split()) <= max_title_words and CYRILLIC.search(cleaned):
            return cleaned
    return salient_noun(text) or "жизнь"


_PROMPT_KEYS = {"version", "eval_template", "train_template", "generic_template", "anon_template", "themes"}


def load_prompts(path) -> PromptSet:
    """A user's themes and templates: a TOML file with any of the keys of ``data/prompts.toml``
    (the rest come from the defaults), or a JSONL file of ``{"theme": ...}`` records."""
    from pathlib import Path

    from poetbench.errors import ConfigError
    from poetbench.io import iter_jsonl, read_toml

    path = Path(path)
    base = default_prompts()
    if path.suffix.lower() == ".jsonl":
        themes = []
        for line, obj in iter_jsonl(path):
            unknown = set(obj) - {"theme"}
            if unknown or not isinstance(obj.get("theme"), str) or not obj["theme"].strip():
                raise ConfigError(f"{path}:{line}: each record needs only a non-empty 'theme'"
                                  + (f" (unknown fields: {', '.join(sorted(unknown))})" if unknown else ""))
            themes.append(obj["theme"].strip())
        data = {"themes": themes}
    else:
        data = read_toml(path, "prompts file")
        unknown = set(data) - _PROMPT_KEYS
        if unknown:
            raise ConfigError(f"{path}: unknown field(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_PROMPT_KEYS))})")
    merged = {**base.to_dict(), "themes": list(base.themes), "anon_template": base.anon_template, **data}
    if not isinstance(merged["themes"], list):
        raise ConfigError(f"must be a list of strings, got {merged['themes']!r}", path, field="themes")
    try:
        return PromptSet(version=merged["version"], eval_template=merged["eval_template"],
                         train_template=merged["train_template"], generic_template=merged["generic_template"],
                         themes=tuple(merged["themes"]), anon_template=merged["anon_template"])
    except ConfigError as e:
        raise ConfigError(str(e), path) from None
