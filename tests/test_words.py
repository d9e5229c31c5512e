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


def test_invisible_is_unicodes_format_characters():
    import unicodedata

    from poetbench.words import INVISIBLE

    bmp = [chr(c) for c in range(0x10000)]
    assert {ch for ch in bmp if INVISIBLE.match(ch)} == {ch for ch in bmp if unicodedata.category(ch) == "Cf"}
    assert all(unicodedata.category(chr(c)) == "Cf" for c in range(0x110000) if INVISIBLE.match(chr(c)))


def test_a_poem_is_read_as_it_prints():
    from poetbench.corpus.cleaning import clean_text
    from poetbench.metrics.text import Memorisation
    from poetbench.words import readable

    assert readable("мно\u0438\u0306 е\u0308ж по\u00adмню чуд\u200bное \ufeffдом") == "мной ёж помню чудное дом"
    assert readable("нѐбо по\u0301мню") == "не\u0300бо по\u0301мню"  # marks stay marks (the scanner reads them)
    assert readable("Ѐсли Ѝмя") == "Е\u0300сли И\u0300мя" and readable("Ёж и йод") == "Ёж и йод"
    assert clean_text("по\u00adмню чуд\u200bное сло\u2060во\ufeff") == "помню чудное слово"
    memo = Memorisation(["Я помню чудное мгновенье:\nПередо мной явилась ты,"])
    for retyped in ("Я по\u0301мню чу\u0301дное мгнове\u0301нье:\nПередо мно\u0301й яви\u0301лась ты,",  # stress marks
                    "Я по\u00adмню чуд\u00adное мгно\u00adвенье:\nПере\u200bдо мно\u0438\u0306 явилась ты,"):
        assert memo.longest_run(retyped) == 8 and memo.copied_line_share(retyped) == 1.0


def test_a_line_copied_with_other_punctuation_or_case_is_copied():
    from poetbench.metrics.text import Memorisation

    memo = Memorisation(["Я помню чудное мгновенье:\nПередо мной явилась ты,\nКак мимолетное виденье"])
    assert memo.copied_line_share("я помню чудное мгновенье!\n— Передо мной явилась ты…\nНо это не оттуда") == 2 / 3
    assert memo.copied_line_share("Я помню чудное\nмгновенье") == 0.0  # not a line of it (nor of 3 words)
    from poetbench.metrics.text import text_stats

    stats = text_stats("Я помню, помню!\nя помню — помню…\n* * *\nИ всё")
    assert stats["lines"] == 3 and stats["repeated_lines"] == 1 / 3  # a refrain with other punctuation repeats
