"""The one word tokenizer and the one pymorphy3 analyzer."""

from poetbench.words import MARKED_WORD, morph, words


def test_words_lowercase_latin_yo_and_hyphens():
    assert words("Ёлка, кто-то и Ночь; SONNET 3") == ["ёлка", "кто-то", "и", "ночь", "sonnet"]
    assert words("Ёлка и ёж", fold_yo=True) == ["елка", "и", "еж"]
    assert words("когда-нибудь-то — ну") == ["когда-нибудь-то", "ну"]
    assert words("слово-") == ["слово"] and words("") == []


def test_marked_words_keep_case_and_stress_marks():
    assert MARKED_WORD.findall("Мой дя\u0301дя, Ёж и Ray-Ban") == ["Мой", "дя\u0301дя", "Ёж", "и", "Ray-Ban"]


def test_one_analyzer():
    from poetbench.prosody import morph as prosody_morph

    assert morph() is morph() and prosody_morph._analyzer() is morph()
