"""The metric registry: every metric poetbench reports, defined once.

Each entry names the metric (the name in ``scores.jsonl``, ``summary.csv`` and ``summary.json``),
its label in tables, a one-line description, whether higher is better (``None``: neither, e.g. a
length), its level and the pure function that computes it:

- ``poem``: a function of one poem's evidence (``PoemEvidence``: text, target author, prosody scan,
  classifier probabilities, the author's memorisation index); summarised as a mean with a BCa CI
  and compared paired with the base;
- ``group``: a function of one model x author group (``GroupEvidence``: its score rows and poems, the
  real author's profiles and every author's corpus); one value per group, or ``(value, CI low,
  CI high)``;
- ``lm``: a function of one held-out ``lm.jsonl`` row (the model on the author's test poems).

Scoring, the summary, the paired comparisons, the terminal tables and the HTML report all read this
list; adding a metric is one entry here, its function, and a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from poetbench.metrics import prosody, style, text

LEVELS = ("poem", "group", "lm")


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    higher_is_better: bool | None
    level: str
    fn: Callable
    headline: bool = False  # shown in the summary tables (all metrics are in the full table)
    fmt: str = ".2f"

    def better(self, values: list[float]):
        """The best of ``values`` by this metric's direction (None when it has none)."""
        vals = [v for v in values if v is not None and v == v]
        if self.higher_is_better is None or not vals:
            return None
        return max(vals) if self.higher_is_better else min(vals)


@dataclass
class PoemEvidence:
    """Everything a per-poem metric may look at."""

    text: str
    author: str  # the author the poem was asked to imitate
    scan: object  # prosody.scan.PoemScan
    proba: dict[str, float]  # the style classifier's P(author | poem)
    memo: object  # metrics.text.Memorisation of the author's training poems

    @cached_property
    def text_stats(self) -> dict:
        return text.text_stats(self.text)


@dataclass
class GroupEvidence:
    """Everything a per-group metric may look at: one model's poems for one author."""

    model: str
    author: str
    rows: list[dict]  # score rows (with the prosodic profile fields)
    texts: list[str]
    real: list[dict] = field(default_factory=list)  # profiles of the real author's poems
    delta_space: object = None  # style.DeltaSpace over the authors' training texts (fitted once per run)
    features: object = None  # the style features of the group's poems (a matrix, one row per poem)
    real_features: object = None  # ... and of the author's real held-out poems (None: no test split)
    real_works: list[str] | None = None  # the work each of those poems is (a part of)
    reference: bool = False  # the group is the real held-out poems themselves
    seed: int = 0

    @cached_property
    def delta(self) -> dict[str, float]:
        return self.delta_space.distances(self.texts)


def _lm(key: str):
    def fn(row: dict) -> float:
        return row[key]

    return fn


METRICS: list[Metric] = [
    # style
    Metric("p_target", "P(author)", "the style classifier's probability that the poem is by the author it imitates",
           True, "poem", style.p_target, headline=True),
    Metric("is_target", "reads as author", "share of poems the style classifier attributes to the imitated author",
           True, "poem", style.is_target, headline=True, fmt=".0%"),
    # prosody
    Metric("regularity", "meter regularity", "share of lines that fit the poem's dominant meter", True, "poem",
           prosody.regularity, headline=True),
    Metric("rhyme_rate", "rhymed lines", "share of lines with a rhyme partner", True, "poem", prosody.rhyme_rate,
           headline=True),
    Metric("exact_rhyme_share", "exact rhymes", "share of rhymed lines whose rhyme is exact", True, "poem",
           prosody.exact_rhyme_share, headline=True),
    Metric("four_quatrains", "4 quatrains", "whether the poem has the 4 quatrains the prompt asks for", True,
           "poem", prosody.four_quatrains, headline=True),
    # memorisation
    Metric("longest_copied_run", "longest copied run", "longest run of words shared with one of the author's "
           "training poems", False, "poem", text.longest_copied_run, fmt=".1f"),
    Metric("copied_line_share", "copied lines", "share of lines (3+ words) found word for word (punctuation and "
           "case aside) in the author's training poems", False, "poem", text.copied_line_share, headline=True),
    # text
    Metric("words", "words", "length of the poem in words", None, "poem", text.words_count, fmt=".1f"),
    Metric("distinct_1", "distinct-1", "distinct words / words", True, "poem", text.distinct_1),
    Metric("distinct_2", "distinct-2", "distinct word bigrams / bigrams", True, "poem", text.distinct_2),
    Metric("repeated_lines", "repeated lines", "share of lines that repeat an earlier line (punctuation and case "
           "aside)", False, "poem", text.repeated_lines),
    # distributions and pools
    Metric("js_meter", "JS meter", "Jensen–Shannon divergence of the meters (with feet) from the real author's",
           False, "group", prosody.js_to_real("meter")),
    Metric("js_line_syllables", "JS line length", "Jensen–Shannon divergence of syllables per line from the real "
           "author's", False, "group", prosody.js_to_real("line_syllables")),
    Metric("js_rhyme_scheme", "JS rhyme scheme", "Jensen–Shannon divergence of the stanzas' rhyme schemes from the "
           "real author's", False, "group", prosody.js_to_real("rhyme_scheme")),
    Metric("cosine_delta", "Cosine Delta", "Burrows's Delta (cosine) of the pooled poems to the author's corpus",
           False, "group", style.delta_to_target),
    Metric("detect_auc", "detectability", "cross-validated ROC AUC of a classifier telling the poems from the author's "
           "real held-out poems on the style features (0.5: indistinguishable, 1: always told apart; the reference "
           "row: two halves of the real poems)", False, "group", style.detect_auc, headline=True),
    Metric("delta_closest_is_target", "Delta picks author", "whether Cosine Delta finds the imitated author's corpus "
           "closest to the pooled poems", True, "group", style.delta_closest_is_target, fmt=".0f"),
    # held-out language-model metrics
    Metric("heldout_perplexity", "held-out ppl", "perplexity of the model on the author's held-out test poems "
           "(completion tokens)", False, "lm", _lm("perplexity"), headline=True, fmt=".1f"),
    Metric("heldout_entropy", "held-out entropy", "mean entropy of the next-token distribution on the test poems",
           None, "lm", _lm("entropy"), fmt=".3f"),
    Metric("heldout_mean_token_accuracy", "held-out token accuracy", "share of test-poem tokens the model predicts "
           "as its argmax", True, "lm", _lm("mean_token_accuracy"), fmt=".3f"),
]
REGISTRY: dict[str, Metric] = {m.name: m for m in METRICS}
assert len(REGISTRY) == len(METRICS) and all(m.level in LEVELS for m in METRICS)


def metrics(level: str | None = None) -> list[Metric]:
    return [m for m in METRICS if level is None or m.level == level]


def headline() -> list[Metric]:
    return [m for m in METRICS if m.headline]


def get(name: str) -> Metric:
    return REGISTRY[name]


def fmt(metric: Metric, value) -> str:
    """``value`` as the metric is shown (— for a missing value)."""
    if value is None or value != value:
        return "—"
    return format(value, metric.fmt)


def fmt_summary(metric: Metric, row: dict | None) -> str:
    """A summary row as the tables show it: ``mean [low, high]`` (the mean alone without a CI)."""
    if row is None:
        return "—"
    text = fmt(metric, row["mean"])
    if row.get("ci_low") is not None and row["ci_low"] == row["ci_low"]:
        text += f" [{fmt(metric, row['ci_low'])}, {fmt(metric, row['ci_high'])}]"
    return text
