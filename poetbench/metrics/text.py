"""Text statistics and memorisation of generated poems (pure functions)."""

from __future__ import annotations

from collections import Counter

from poetbench.words import STRESS_MARKS, readable
from poetbench.words import words as split_words


def _plain(text: str) -> str:
    """``words.readable`` without stress marks: what the text metrics compare, so that a training line
    retyped with a Latin ``о``, a soft hyphen or stress marks still counts as copied."""
    return STRESS_MARKS.sub("", readable(text))


def words(text: str) -> list[str]:
    """The words the text metrics count and compare (``_plain``, ``ё`` as ``е``)."""
    return split_words(_plain(text), fold_yo=True)


def _line_words(text: str, min_words: int = 3) -> list[str]:
    """The text's lines of ``min_words`` words or more as memorisation and repetition compare them: their
    words (``words``), so that a line copied or repeated with other punctuation or case is the same line."""
    keys = (" ".join(split_words(ln, fold_yo=True)) for ln in _plain(text).split("\n"))
    return [k for k in keys if k and k.count(" ") + 1 >= min_words]


def distinct_n(tokens: list[str], n: int) -> float:
    grams = [tuple(tokens[i: i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def text_stats(text: str) -> dict[str, float]:
    """Length, lexical diversity (distinct-1/2) and repetition: the share of lines (with a word) that repeat
    an earlier one word for word, punctuation and case aside."""
    w = words(text)
    lines = _line_words(text, 1)
    repeated = sum(c - 1 for c in Counter(lines).values() if c > 1)
    return {"words": len(w), "lines": len(lines), "distinct_1": distinct_n(w, 1), "distinct_2": distinct_n(w, 2),
            "repeated_lines": repeated / len(lines) if lines else 0.0}


class Memorisation:
    """Copying from an author's training poems: the longest run of words shared with any of them,
    and the share of generated lines (3 words or more) that are one of their lines word for word,
    punctuation and case aside."""

    def __init__(self, training_texts: list[str], n: int = 8):
        self.n = n
        self.lines = {ln for t in training_texts for ln in _line_words(t)}
        self.texts = [words(t) for t in training_texts]
        self.grams = {k: {tuple(t[i: i + k]) for t in self.texts for i in range(len(t) - k + 1)}
                      for k in range(1, n + 1)}
        self.positions: dict[str, list[tuple[int, int]]] = {}
        for ti, t in enumerate(self.texts):
            for j, tok in enumerate(t):
                self.positions.setdefault(tok, []).append((ti, j))

    def longest_run(self, text: str) -> int:
        w = words(text)
        best = 0
        for k in range(1, self.n + 1):
            if any(tuple(w[i: i + k]) in self.grams[k] for i in range(len(w) - k + 1)):
                best = k
            else:
                return best
        for i in range(len(w) - self.n + 1):  # runs of n words or more: extend them to full length
            if tuple(w[i: i + self.n]) not in self.grams[self.n]:
                continue
            for ti, j in self.positions.get(w[i], ()):
                t, k = self.texts[ti], 0
                while i + k < len(w) and j + k < len(t) and w[i + k] == t[j + k]:
                    k += 1
                best = max(best, k)
        return best

    def copied_line_share(self, text: str) -> float:
        lines = _line_words(text)
        return sum(ln in self.lines for ln in lines) / len(lines) if lines else 0.0


def _stat(name: str):
    def fn(poem) -> float:
        return poem.text_stats[name]

    fn.__name__ = name
    return fn


words_count, distinct_1, distinct_2, repeated_lines = (_stat(n) for n in ("words", "distinct_1", "distinct_2",
                                                                          "repeated_lines"))


def longest_copied_run(poem) -> int:
    return poem.memo.longest_run(poem.text)


def copied_line_share(poem) -> float:
    return poem.memo.copied_line_share(poem.text)
