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


def test_copying_retyped_with_latin_lookalike_letters_is_still_copying():
    from poetbench.metrics.text import Memorisation, text_stats
    from poetbench.words import cyrillic_lookalikes

    training = ["Я помню чудное мгновенье:\nПередо мной явилась ты,\nКак мимолетное виденье,\nКак гений чистой красоты."]
    copy = "Я пoмню чудное мгнoвенье:\nПеpедо мнoй явилась ты,\nKак мимoлетнoе виденье,"  # Latin o, p, K
    assert cyrillic_lookalikes(copy) != copy
    memo = Memorisation(training)
    assert memo.longest_run(copy) == 11 and memo.copied_line_share(copy) == 1.0  # every word, every line
    assert cyrillic_lookalikes("Ray-Ban и ночь") == "Ray-Ban и ночь"  # Latin words stay Latin
    assert text_stats("Kот и кот\nкот и кoт")["repeated_lines"] == 0.5
