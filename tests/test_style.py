"""The author-style classifier and Cosine Delta."""

import json
import random

import numpy as np
import pytest
from sklearn.base import clone
from click.testing import CliRunner

from poetbench.metrics.style import cosine_delta
from poetbench.style.features import ProsodyFeatures, build_pipeline, edition_free, pooled_proba, rhyme_gaps
from tests.conftest import SHARED, VOCAB, make_poem, micro_config, module_workspace



def synthetic(n, seed):
    rng = random.Random(seed)
    texts, labels = [], []
    for author, words in VOCAB.items():
        for _ in range(n):
            texts.append(make_poem(rng, words))
            labels.append(author)
    return texts, labels


def test_classifier_beats_chance_by_a_wide_margin():
    X, y = synthetic(40, 0)
    Xt, yt = synthetic(15, 1)
    model = build_pipeline(use_prosody=False).fit(X, y)
    accuracy = np.mean(np.array(model.predict(Xt)) == np.array(yt))
    assert accuracy > 0.9  # chance is 1/3
    proba = model.predict_proba(Xt)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_block_weights_scale_the_feature_blocks():
    weights = build_pipeline(block_weights={"lemmas": 0.5, "prosody": 2.0}).named_steps["features"].transformer_weights
    assert weights["lemmas"] == 0.5 and weights["prosody"] == 0.2 and weights["function_words"] == 0.1
    assert "chars" not in build_pipeline().named_steps["features"].transformer_weights  # 1.0 by default


def test_pooled_proba_multiplies_evidence():
    p = pooled_proba(np.array([[0.6, 0.4], [0.6, 0.4], [0.6, 0.4]]))
    assert p[0] > 0.7 and abs(p.sum() - 1) < 1e-9


def test_prosody_features_describe_meter_and_rhyme(monkeypatch):
    from tests.test_prosody import PROSODY

    monkeypatch.setenv("POETBENCH_PROSODY_DIR", str(PROSODY))
    f = ProsodyFeatures().transform(["Мой дядя самых честных правил,\nКогда не в шутку занемог,\n"
                                     "Он уважать себя заставил\nИ лучше выдумать не мог."])[0]
    assert f["meter=iamb"] == 1.0 and f["meter_feet=iamb4"] == 1.0 and f["rhyme_rate"] == 1.0
    assert f["clausula=feminine"] == 0.5 and f["scheme=ABAB"] == 1.0


def test_stress_profile_reads_each_ictus_of_the_poems_meter(monkeypatch):
    from types import SimpleNamespace as NS

    from poetbench.style.features import stress_profile
    from tests.test_prosody import PROSODY

    def line(pattern, meter="iamb tetrameter"):
        return NS(text="x", pattern=pattern, meter=meter)

    poem = NS(meter="iamb", feet=4, meter_label="iamb tetrameter",
              lines=[line("-/-/-/-/-"), line("-/---/-/"), line("---/-/-/-"), line("/--/---/"),
                     line("-/-/-/", "iamb trimeter"), NS(text="", pattern="", meter="")])
    # four iambic tetrameters: ictus 1 stressed in 2 of 4 lines, 2 in 3, 3 in 3; one stressed off the beat
    assert stress_profile(poem) == {"ictus=iamb4:1": 0.5, "ictus=iamb4:2": 0.75, "ictus=iamb4:3": 0.75,
                                    "weak_stress=iamb": 0.25}
    assert stress_profile(NS(meter="dolnik", feet=3, meter_label="dolnik", lines=poem.lines)) == {}
    monkeypatch.setenv("POETBENCH_PROSODY_DIR", str(PROSODY))
    text = ("Мой дядя самых честных правил,\nКогда не в шутку занемог,\n"
            "Он уважать себя заставил\nИ лучше выдумать не мог.")
    plain, profiled = ProsodyFeatures().transform([text])[0], ProsodyFeatures(rhythm=True).transform([text])[0]
    assert not any(k.startswith("ictus=") for k in plain)
    assert {k: v for k, v in profiled.items() if k not in plain}.keys() == {
        "ictus=iamb4:1", "ictus=iamb4:2", "ictus=iamb4:3", "weak_stress=iamb"}
    assert build_pipeline(rhythm=True).named_steps["features"].get_params()["prosody__scan__rhythm"] is True
    # a judge saved before the parameter existed profiles no rhythm
    state = ProsodyFeatures(rhythm=True).__getstate__()
    del state["rhythm"]
    saved = ProsodyFeatures.__new__(ProsodyFeatures)
    saved.__setstate__(state)
    assert saved.get_params()["rhythm"] is False


def test_edition_free_takes_out_the_editions_typesetting():
    text = '"Ах!" — сказал он...\n[Тихо] чтo <ёж>\n\n«Ёлка» — „ель“…'
    assert edition_free(text) == '"Ах!" — сказал он…\nТихо что еж\n"Елка" — "ель"…'
    assert edition_free("Bad Nauheim, He") == "Bad Nauheim, He"  # Latin words stay Latin


def test_edition_free_drops_what_a_source_sets_between_verses():
    marked = ("(Из Шиллера)\nПо небу полуночи . . . летел\n. . . . . . . . . .\n\nИ тихую песню он пел\n"
              "………………\n· · ·\n—\n1831")
    assert edition_free(marked) == "По небу полуночи … летел\nИ тихую песню он пел"
    # only a first line is a subtitle; a parenthesis inside the verse stays
    assert edition_free("Он пел\n(Пел в тоске пастух младой)") == "Он пел\n(Пел в тоске пастух младой)"
    assert edition_free(". . .\n* * *") == ""


def test_rhyme_gaps_describe_the_pattern_without_stanzas():
    assert rhyme_gaps("ABAB") == ["2", "2"] and rhyme_gaps("AABB") == ["1", "1"]
    assert rhyme_gaps("ABBA") == ["3", "1"] and rhyme_gaps("A-A-CDCD") == ["2", "2", "2"]


def test_the_judge_is_blind_to_how_a_poem_is_typeset():
    X, y = synthetic(30, 0)
    model = build_pipeline(use_prosody=False).fit(X, y)
    poem = synthetic(1, 1)[0][0].split("\n")
    plain = "\n".join(poem[:2]) + '\n"' + poem[2] + '"...\n' + "\n".join(poem[3:])
    other = "\n".join(poem[:2]) + "\n\n«" + poem[2] + "»…\n" + "\n".join(poem[3:])
    assert np.allclose(model.predict_proba([plain]), model.predict_proba([other]))
    marked = "(Отрывок)\n" + "\n".join(poem[:2]) + "\n. . . . . . . .\n" + "\n".join(poem[2:]) + "\n1916"
    assert np.allclose(model.predict_proba(["\n".join(poem)]), model.predict_proba([marked]))
    assert np.isfinite(model.predict_proba(["· · ·"])).all()  # nothing left but still a judgement
    kept = build_pipeline(use_prosody=False, edition_free=False).fit(X, y)
    assert not np.allclose(kept.predict_proba([plain]), kept.predict_proba([other]))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The classifier trained once for the module."""
    from poetbench.style.classifier import train_classifier

    env, mp = module_workspace(tmp_path_factory.mktemp("style"))
    cfg = micro_config(env)
    yield cfg, train_classifier(cfg, log=lambda m: None)
    mp.undo()


def test_held_out_report_uses_unseen_poems_and_round_trips(trained):
    import hashlib

    from poetbench.style.classifier import TRAIN_SPLITS, split_texts, evaluation_of
    from poetbench.style.store import load

    cfg, model = trained
    _, _, train_ids = split_texts(cfg, model.authors, *TRAIN_SPLITS)
    _, _, test_ids = split_texts(cfg, model.authors, "test")
    assert "test" not in TRAIN_SPLITS and model.meta["train_splits"] == list(TRAIN_SPLITS)
    assert model.meta["train_ids_sha256"] == hashlib.sha256("\n".join(sorted(train_ids)).encode()).hexdigest()
    assert test_ids and not set(train_ids) & set(test_ids)
    report = evaluation_of(model)
    assert report["poems"] == len(test_ids) and report["macro_f1"] > 0.8
    assert set(report["per_author"]) == {"alpha", "beta", "gamma"}
    assert (model.path / "confusion.csv").read_text().startswith("true \\ predicted")
    again = load(model.path, model.meta["corpora"])
    texts = ["Луна звезда ночь туман река\nберег ветер тихий светлый\nплывёт сияет луна\nночь туман"]
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts))


def test_loading_warns_on_other_corpora_and_refuses_untrusted_types(trained, tmp_path):
    import fractions
    import shutil

    import skops.io as sio

    from poetbench.style.store import ClassifierError, load

    cfg, model = trained
    messages = []
    load(model.path, {"alpha": "0" * 64}, warn=messages.append)
    assert messages and "other corpora" in messages[0]
    older = tmp_path / "older"
    shutil.copytree(model.path, older)
    meta = json.loads((older / "meta.json").read_text())
    meta["features"]["version"] = 5
    (older / "meta.json").write_text(json.dumps(meta))
    messages.clear()
    load(older, model.meta["corpora"], warn=messages.append)
    assert len(messages) == 1 and "features version 5" in messages[0] and "classifier train" in messages[0]
    evil = tmp_path / "evil"
    shutil.copytree(model.path, evil)
    sio.dump({"x": fractions.Fraction(1, 3)}, evil / "model.skops")
    with pytest.raises(ClassifierError, match="untrusted types: fractions.Fraction"):
        load(evil)


def test_a_judge_saved_before_open_set_moved_still_loads(trained, tmp_path):
    import shutil
    import zipfile

    from poetbench.style.store import load

    _, model = trained
    older = tmp_path / "older"
    shutil.copytree(model.path, older)
    with zipfile.ZipFile(model.path / "model.skops") as src, zipfile.ZipFile(older / "model.skops", "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "schema.json":
                assert b'"poetbench.style.openset"' in data
                data = data.replace(b'"poetbench.style.openset"', b'"poetbench.style.features"')
            dst.writestr(name, data)
    texts = ["Луна звезда ночь туман река\nберег ветер тихий светлый\nплывёт сияет луна\nночь туман"]
    assert np.allclose(load(older).predict_proba(texts), model.predict_proba(texts))


def test_predict_command_trains_first_on_a_fresh_checkout(corpus_env, tmp_path, monkeypatch):
    from poetbench.cli import cli
    from poetbench.config import save_config

    monkeypatch.setenv("POETBENCH_CLASSIFIER_DIR", str(tmp_path / "classifiers"))
    cfg_path = tmp_path / "c.toml"
    save_config(micro_config(corpus_env), cfg_path)
    src = tmp_path / "in.jsonl"
    rng = random.Random(9)
    src.write_text(json.dumps({"id": "p1", "text": make_poem(rng, VOCAB["beta"])}, ensure_ascii=False) + "\n"
                   + json.dumps({"text": make_poem(rng, VOCAB["gamma"])}, ensure_ascii=False) + "\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["classifier", "predict", "--config", str(cfg_path), "--jsonl", str(src),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["id"] == "p1" and rows[0]["author"] == "beta" and "id" not in rows[1]
    assert rows[1]["author"] == "gamma" and abs(sum(rows[1]["proba"].values()) - 1) < 1e-3


def test_two_evals_started_at_once_train_their_judge_once(corpus_env, tmp_path, monkeypatch):
    """The second process that needs a judge the first is training waits for it, says so, and loads it
    (two processes saving one folder had raced: one removed what the other was renaming into place)."""
    import poetbench.style.classifier as K
    from tests.conftest import two_at_once

    monkeypatch.setenv("POETBENCH_CLASSIFIER_DIR", str(tmp_path / "classifiers"))
    cfg = micro_config(corpus_env)
    K.corpora_for_classifier(cfg, lambda m: None)  # the corpora built before, as eval does
    logs, got = two_at_once(monkeypatch, K, "_train_and_save", lambda log: K.train_classifier(cfg, log=log))
    lines = logs["first"] + logs["second"]
    assert sum(m.startswith("training the style classifier") for m in lines) == 1
    assert any(m.startswith("waiting for another poetbench process") for m in logs["second"])
    assert got["first"].path == got["second"].path and (got["first"].path / "model.skops").is_file()
    texts = [make_poem(random.Random(5), VOCAB["alpha"])]
    assert np.allclose(got["first"].predict_proba(texts), got["second"].predict_proba(texts))


def test_classifier_needs_three_authors(corpus_env, tmp_path, monkeypatch):
    from poetbench.style.classifier import ClassifierError, train_classifier

    (corpus_env["root"] / "gamma.jsonl").unlink()
    monkeypatch.setenv("POETBENCH_CLASSIFIER_DIR", str(tmp_path / "classifiers"))
    with pytest.raises(ClassifierError, match="at least 3 authors"):
        train_classifier(micro_config(corpus_env), log=lambda m: None)


@pytest.mark.skipif(not (SHARED / "corpora" / "pushkin.jsonl").exists(), reason="needs ../shared/corpora")
def test_cosine_delta_ranks_an_authors_own_held_out_pool_closest(tmp_path):
    from poetbench import corpus as C

    authors = ["pushkin", "lermontov", "tyutchev", "blok", "yesenin"]
    settings = C.CorpusSettings()
    for a in authors:
        C.import_author(C.Author(a, a, SHARED / "corpora" / f"{a}.jsonl"), tmp_path, settings)
    corpora = {a: [r["text"] for r in C.load_records(tmp_path, a, "train")] for a in authors}
    for a in authors:
        pool = [r["text"] for r in C.load_records(tmp_path, a, "test")]
        distances = cosine_delta(pool, corpora)
        assert min(distances, key=distances.get) == a


def test_open_set_fits_its_parts_in_one_pool_as_cross_val_predict_would():
    """The shipped judge's poets' cross-validated probabilities come from its own calibration folds: the
    decisions it calibrates on, through its calibrators; the poet-vs-other model's from folds of its own."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from poetbench.style.openset import OpenSet, calibrated_proba, other_weight

    rng = np.random.default_rng(0)
    y = np.array(["a"] * 30 + ["b"] * 30 + ["c"] * 30 + ["other"] * 40)
    X = rng.normal(size=(len(y), 12))
    for column, label in enumerate(("a", "b", "other")):
        X[:, column] += (y == label) * 1.5
    estimator = build_pipeline(n_jobs=1).steps[-1][1].estimator
    fits = [OpenSet(estimator, n_jobs=n).fit(X, y) for n in (None, 2)]
    poets = y != "other"
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    q = cross_val_predict(estimator, X, ~poets, cv=cv, method="predict_proba")[:, 1]
    closed = fits[0].closed_
    decisions = cross_val_predict(estimator.estimator, X[poets], y[poets], cv=StratifiedKFold(3),
                                  method="decision_function")  # the calibration's own folds
    best = calibrated_proba(closed, decisions).max(axis=1)
    assert 0 < fits[0].weight_ < 1
    assert fits[0].weight_ == fits[1].weight_ == other_weight(q[poets], best, fits[0].max_false_other)
    assert np.array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
    assert list(fits[0].classes_) == ["a", "b", "c", "other"]
    # the stand-in reads decisions as the calibrated model itself does
    own = closed.calibrated_classifiers_[0].estimator.decision_function(X)
    assert np.allclose(calibrated_proba(closed, own), closed.predict_proba(X))


def test_long_poems_are_also_learned_as_pieces_each_tied_to_its_poem():
    from poetbench.style.augment import augmented, pieces

    long_poem = "\n\n".join("\n".join(f"строка {s}.{i}" for i in range(4)) for s in range(5))  # 5 quatrains
    short_poem = "\n".join(f"строчка {i}" for i in range(6))
    assert [p.count("\n") + 1 for p in pieces(long_poem, 4)] == [4] * 5
    assert [p.count("\n") + 1 for p in pieces(long_poem, 8)] == [8, 8, 4]
    assert pieces("один\nдва\nтри", 8) == []  # a piece under 4 lines is dropped
    X, y, groups = augmented([short_poem, long_poem], ["a", "b"], 4)
    assert X[:2] == [short_poem, long_poem] and len(X) == 7  # the poems first, then the long one's 5 pieces
    assert list(y) == ["a"] + ["b"] * 6 and list(groups) == [0, 1, 1, 1, 1, 1, 1]
    assert all(p in long_poem for p in X[2:])
    assert augmented([short_poem, long_poem], ["a", "b"], 0)[0] == [short_poem, long_poem]
    assert augmented([short_poem, long_poem], ["a", "other"], 4)[0] == [short_poem, long_poem]  # other: whole only


def test_features_fitted_on_every_row_or_on_the_poems_only():
    from poetbench.style.augment import fit_augmented

    texts, labels = synthetic(6, 0)
    texts = [t + "\n\n" + t.replace("\n", " ой\n") for t in texts]  # long enough to be cut
    vocab = lambda m: set(m.named_steps["features"].transformer_list[1][1].vocabulary_)  # noqa: E731
    rows = fit_augmented(build_pipeline(use_prosody=False), texts, labels, 4)
    poems = fit_augmented(build_pipeline(use_prosody=False), texts, labels, 4, vocabulary="poems")
    assert vocab(poems) == vocab(build_pipeline(use_prosody=False).fit(texts, labels))
    assert vocab(poems) < vocab(rows)  # a poem and its pieces count as two documents for min_df
    assert list(poems.predict(texts)) == labels


def test_parts_of_speech_block_reads_each_lines_syntax():
    from poetbench.style.features import PartsOfSpeech

    assert PartsOfSpeech().transform(["Белеет парус\n\nВ тумане"]) == ["VERB NOUN.nomn / PREP NOUN.loct /"]
    assert "parts_of_speech" not in build_pipeline().named_steps["features"].transformer_weights
    assert build_pipeline(parts_of_speech=0.5).named_steps["features"].transformer_weights["parts_of_speech"] == 0.5


def test_open_set_folds_keep_a_poems_pieces_together():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    from poetbench.style.openset import OpenSet, _grouped, other_weight

    rng = np.random.default_rng(0)
    y = np.repeat(np.array(["a"] * 12 + ["b"] * 12 + ["other"] * 16), 3)  # each poem and two pieces of it
    groups = np.repeat(np.arange(40), 3)
    X = rng.normal(size=(len(y), 8)) + (y == "a")[:, None] * 0.8
    X[:, 1] += (y == "other") * 1.0
    estimator = LogisticRegression(C=0.5)
    fit = OpenSet(estimator, n_jobs=1).fit(X, y, groups=groups)
    poets, whole = y != "other", np.arange(len(y)) % 3 == 0
    cv = StratifiedGroupKFold(3, shuffle=True, random_state=0)
    best = cross_val_predict(estimator, X[poets], y[poets], cv=cv, groups=groups[poets], method="predict_proba").max(axis=1)
    # the poet-vs-other model learns from whole poems, and its weight is set on them
    q = cross_val_predict(estimator, X[whole], ~poets[whole], cv=StratifiedKFold(3, shuffle=True, random_state=0),
                          method="predict_proba")[:, 1]
    assert fit.weight_ == other_weight(q[poets[whole]], best[whole[poets]], fit.max_false_other)
    assert np.array_equal(fit.binary_.coef_, LogisticRegression(C=0.5).fit(X[whole], ~poets[whole]).coef_)
    assert np.array_equal(fit.closed_.coef_, LogisticRegression(C=0.5).fit(X[poets], y[poets]).coef_)  # pieces too
    # a calibrated model's own folds are whole groups too, and its saved cv is the fold count again
    calibrated = CalibratedClassifierCV(LinearSVC(random_state=0), cv=3, method="sigmoid", ensemble=False)
    model = _grouped(calibrated, X, poets, groups)
    by_hand = CalibratedClassifierCV(LinearSVC(random_state=0), method="sigmoid", ensemble=False,
                                     cv=list(cv.split(X, poets, groups))).fit(X, poets)
    assert model.cv == 3
    assert np.array_equal(model.predict_proba(X), by_hand.predict_proba(X))
    # and a calibrated judge's poets' cross-validated probabilities come from those whole-group folds
    from poetbench.style.openset import calibrated_proba

    fit = OpenSet(calibrated, n_jobs=1).fit(X, y, groups=groups)
    decisions = cross_val_predict(LinearSVC(random_state=0), X[poets], y[poets], cv=cv, groups=groups[poets],
                                  method="decision_function")
    best = calibrated_proba(fit.closed_, decisions).max(axis=1)
    q = cross_val_predict(calibrated, X[whole], ~poets[whole], cv=StratifiedKFold(3, shuffle=True, random_state=0),
                          method="predict_proba")[:, 1]
    assert fit.weight_ == other_weight(q[poets[whole]], best[whole[poets]], fit.max_false_other)
    # its closed-set model is assembled from those fits, and is the model a whole fit on the folds makes
    by_hand = CalibratedClassifierCV(LinearSVC(random_state=0), method="sigmoid", ensemble=False,
                                     cv=list(cv.split(X[poets], y[poets], groups[poets]))).fit(X[poets], y[poets])
    assert type(fit.closed_) is CalibratedClassifierCV and fit.closed_.cv == 3
    assert list(fit.closed_.classes_) == ["a", "b"] and fit.closed_.n_features_in_ == X.shape[1]
    assert np.array_equal(fit.closed_.predict_proba(X), by_hand.predict_proba(X))


def test_poem_weight_makes_each_poem_and_its_pieces_weigh_alike():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.svm import LinearSVC

    from poetbench.style.openset import OpenSet, poem_weights

    groups = np.array([0, 1, 1, 1, 1, 2, 2])  # a short poem, one with three pieces, one with one
    assert poem_weights(groups, 0.0) is None
    w = poem_weights(groups, 1.0)
    assert np.isclose(w.mean(), 1.0) and np.isclose(w[0], w[1:5].sum()) and np.isclose(w[0], w[5:].sum())
    assert np.allclose(poem_weights(groups, 0.5)[[0, 1, 5]] / poem_weights(groups, 0.5)[0], [1, 0.5, 2 ** -0.5])
    # the judge's closed-set model, assembled from its fits, is the one a weighted whole fit makes
    rng = np.random.default_rng(2)
    sizes = rng.integers(1, 5, size=45)  # each poem and its pieces
    groups = np.repeat(np.arange(45), sizes)
    y = np.repeat(np.array(["a"] * 15 + ["b"] * 15 + ["other"] * 15), sizes)
    X = rng.normal(size=(len(y), 6)) + (y == "a")[:, None] * 0.8
    X[:, 1] += (y == "other") * 1.0
    calibrated = CalibratedClassifierCV(LinearSVC(random_state=0), cv=3, method="sigmoid", ensemble=False)
    plain = OpenSet(calibrated, n_jobs=1).fit(X, y, groups=groups)
    fit = OpenSet(calibrated, n_jobs=1, poem_weight=1.0).fit(X, y, groups=groups)
    poets = y != "other"
    folds = list(StratifiedGroupKFold(3, shuffle=True, random_state=0).split(X[poets], y[poets], groups[poets]))
    by_hand = CalibratedClassifierCV(LinearSVC(random_state=0), method="sigmoid", ensemble=False, cv=folds).fit(
        X[poets], y[poets], sample_weight=poem_weights(groups[poets], 1.0))
    assert np.allclose(fit.closed_.predict_proba(X), by_hand.predict_proba(X), rtol=0, atol=1e-12)
    assert not np.allclose(fit.closed_.predict_proba(X), plain.closed_.predict_proba(X))
    assert np.array_equal(fit.binary_.predict_proba(X), plain.binary_.predict_proba(X))  # whole poems: unweighted
    # a judge saved before the parameter existed loads with every row alike
    state = plain.__getstate__()
    del state["poem_weight"]
    saved = OpenSet.__new__(OpenSet)
    saved.__setstate__(state)
    assert saved.get_params()["poem_weight"] == 0.0 and "poem_weight" not in repr(saved)


def test_a_calibrated_model_assembled_from_its_parts_is_the_one_its_fit_makes():
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from poetbench.style.openset import assemble_calibrated

    rng = np.random.default_rng(1)
    y = np.array(["a"] * 20 + ["b"] * 25 + ["c"] * 30)
    X = rng.normal(size=(len(y), 6)) + (y == "a")[:, None] * 0.7
    X[:, 2] += (y == "c") * 1.0
    calibrated = build_pipeline(n_jobs=1).steps[-1][1].estimator
    svm = calibrated.estimator
    for labels in (y, y == "a"):  # several classes, and two (one column of decisions)
        decisions = cross_val_predict(svm, X, labels, cv=StratifiedKFold(3), method="decision_function")
        model = assemble_calibrated(calibrated, clone(svm).fit(X, labels), decisions, labels)
        whole = clone(calibrated).fit(X, labels)
        assert np.array_equal(model.classes_, whole.classes_)
        assert np.allclose(model.predict_proba(X), whole.predict_proba(X), rtol=0, atol=1e-12)
        assert model.get_params()["cv"] == 3


def test_without_sklearns_private_calibrator_the_judge_fits_the_slower_way(monkeypatch):
    import poetbench.style.openset as openset
    from poetbench.style.openset import OpenSet

    rng = np.random.default_rng(2)
    y = np.array(["a"] * 30 + ["b"] * 30 + ["other"] * 30)
    X = rng.normal(size=(len(y), 5)) + (y == "a")[:, None] * 1.0 - (y == "b")[:, None] * 1.0
    judge = build_pipeline(n_jobs=1).steps[-1][1]
    fast = clone(judge).fit(X, y)
    monkeypatch.setattr(openset, "_can_assemble", lambda: False)  # (scikit-learn's own fit needs the function)
    slow = clone(judge).fit(X, y)
    assert isinstance(slow, OpenSet) and list(slow.classes_) == list(fast.classes_) == ["a", "b", "other"]
    assert (slow.predict(X) == fast.predict(X)).mean() > 0.9


def test_quiet_worker_restarts_silences_only_joblibs_restart_warning():
    import warnings

    from poetbench.style.classifier import quiet_worker_restarts

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_worker_restarts():
            warnings.warn("A worker stopped while some jobs were given to the executor.", UserWarning)
            warnings.warn("something else", UserWarning)
        warnings.warn("A worker stopped while some jobs were given to the executor.", UserWarning)
    assert [str(w.message) for w in seen] == ["something else",
                                              "A worker stopped while some jobs were given to the executor."]
