"""The prosody engine on lines whose meter every textbook states, rhyme pairs, and Rifma samples."""

import json
import os
from pathlib import Path

import pytest

from tests.conftest import SHARED

# The shared dictionaries when present, else the extract of them these tests need (tests/data/prosody,
# written by tests/data/make_accent_sample.py); POETBENCH_TEST_PROSODY=sample forces the extract.
SAMPLE = Path(__file__).parent / "data" / "prosody"
PROSODY = SHARED / "prosody" if (SHARED / "prosody" / "accent.dic").exists() and \
    os.environ.get("POETBENCH_TEST_PROSODY") != "sample" else SAMPLE
needs_rifma = pytest.mark.skipif(not (SHARED / "prosody" / "rifma_dev.jsonl").exists(),
                                 reason="measures the engine on Rifma (../shared/prosody)")

TEXTBOOK = [
    ("Мой дядя самых честных правил,\nКогда не в шутку занемог,\nОн уважать себя заставил\nИ лучше выдумать не мог.",
     "iamb", 4, "ABAB"),
    ("Я научилась просто, мудро жить,\nСмотреть на небо и молиться Богу,\nИ долго перед вечером бродить,\n"
     "Чтоб утомить ненужную тревогу.", "iamb", 5, "ABAB"),
    ("Буря мглою небо кроет,\nВихри снежные крутя;\nТо, как зверь, она завоет,\nТо заплачет, как дитя.",
     "trochee", 4, "ABAB"),
    ("Однажды в студёную зимнюю пору\nЯ из лесу вышел; был сильный мороз.\nГляжу, поднимается медленно в гору\n"
     "Лошадка, везущая хворосту воз.", "amphibrach", 4, "ABAB"),
    ("Вот парадный подъезд. По торжественным дням,\nОдержимый холопским недугом,\n"
     "Целый город с каким-то испугом\nПодъезжает к заветным дверям.", "anapest", 3, "ABBA"),
    ("Слава тебе, безысходная боль!\nУмер вчера сероглазый король.\n\n"
     "Вечер осенний был душен и ал,\nМуж мой, вернувшись, спокойно сказал:", "dactyl", 4, "AA AA"),
    ("Вхожу я в тёмные храмы,\nСовершаю бедный обряд.\nТам жду я Прекрасной Дамы\n"
     "В мерцаньи красных лампад.", "dolnik", None, "ABAB"),
    ("Вчера я ходил в магазин за хлебом и молоком, а потом долго разговаривал с соседом о погоде.\n"
     "Он сказал, что в этом году урожай картофеля оказался неожиданно плохим и дорогим.\n"
     "Мы постояли у подъезда ещё полчаса и разошлись.", "free", None, None),
]


@pytest.fixture(scope="module")
def dic():
    from poetbench.prosody.stress import default_dictionary

    return default_dictionary(str(PROSODY))


@pytest.mark.parametrize("text,meter,feet,scheme", TEXTBOOK, ids=[t[1] + str(t[2]) for t in TEXTBOOK])
def test_textbook_meters(dic, text, meter, feet, scheme):
    from poetbench.prosody.scan import scan_poem

    result = scan_poem(text, dic)
    assert result.meter == meter
    if feet is not None:
        assert result.feet == feet
    if scheme is not None:
        assert result.rhyme_scheme == scheme
    if meter != "free":
        assert result.regularity >= 0.75


def test_a_built_dictionary_is_sorted_for_its_binary_searches(tmp_path):
    """Forms and reversed forms in byte order, each form found again with its code, the suffix fallback
    reading the reversed array; a form in both files merges its readings."""
    import numpy as np

    from poetbench.prosody.stress import StressDictionary

    (tmp_path / "a.dic").write_bytes("дом(|а|ами)\t1\nяблок(о|а)\t1\nабажур(|ы)\t3\nзамок\t1\nзам(ок)\t2\n"
                                     "в-одиночку\t3\nёлк(а)\t1\"\n".encode("cp1251"))
    (tmp_path / "b.dic").write_bytes("дома\t2\n".encode("cp1251"))
    d = StressDictionary.build([tmp_path / "a.dic", tmp_path / "b.dic"])
    assert np.all(d.words[:-1] < d.words[1:]) and np.all(d.rwords[:-1] < d.rwords[1:])
    assert sorted(w[::-1] for w in d.words) == list(d.rwords)
    assert d.lookup("абажуры").primary == (3,) and d.lookup("елка").yo == (True,)
    assert set(d.lookup("замок").primary) == {1, 2} and set(d.lookup("дома").primary) == {1, 2}
    assert d.lookup("в-одиночку") is not None and d.lookup("кот") is None
    assert d.by_suffix("абажурами") == (3,)  # абажу́рами: до́мами's stress counted from the end (reversed array)


def test_stress_marks_and_clausulas(dic):
    from poetbench.prosody.scan import scan_poem

    text = "Мой дядя самых честных правил,\nКогда не в шутку занемог,"
    result = scan_poem(text, dic)
    assert result.accented_text == "Мой дя́дя са́мых че́стных пра́вил,\nКогда́ не в шу́тку занемо́г,"
    assert result.accented_text.replace("\u0301", "") == text  # same characters otherwise
    assert result.clausulas == {"feminine": 1, "masculine": 1}
    assert [l.syllables for l in result.lines] == [9, 8]


def test_stress_sources(dic):
    from poetbench.prosody.readings import word_stress

    assert word_stress("замо́к", dic) == ((2,), "mark")  # an explicit mark wins
    assert word_stress("ёлка", dic)[0] == (1,)
    assert word_stress("молоко", dic) == ((3,), "dict")
    assert word_stress("в", dic)[1] == "none" and word_stress("на", dic)[1] == "clitic"
    assert word_stress("сомненье", dic)[0] == (2,)  # poetic -ье form of сомнение
    assert word_stress("подобьем", dic)[0] == (2, 3)  # подо́бьем (of подобие) before the verb подобьём
    assert word_stress("копьем", dic)[0] == (2,)
    opts, kind = word_stress("глокая", dic)  # unknown: fitted fallback
    assert kind in ("suffix", "guess") and len(opts) >= 1


def test_a_guessed_stress_follows_the_meter(dic):
    """A word the dictionaries lack keeps its guess first, but its other syllables are readings too:
    where the guess falls on a weak position of the meter, the meter moves it (a dictionary word's
    one reading is never moved so)."""
    from poetbench.prosody.readings import METER_MOVES, word_stress
    from poetbench.prosody.scan import scan_poem

    opts, kind = word_stress("курдяпа", dic)
    assert kind in METER_MOVES and opts[0] == 2 and sorted(opts) == [1, 2, 3]
    assert word_stress("молоко", dic) == ((3,), "dict")
    poem = ("Мой дядя самых честных правил,\nКогда не в шутку занемог,\nОн уважать себя заставил\n"
            "И лучше курдяпа не мог.")
    assert scan_poem(poem, dic).accented_text.split("\n")[3] == "И лу́чше ку́рдяпа не мо́г."  # not курдя́па


def test_a_participle_written_without_yo_may_take_the_older_stress(dic):
    """заснежённый written заснеженный: the dictionary's ё-stress stays first, the syllable before it is
    a reading too (засне́женный), and the meter chooses; a word whose ё-stress is not a participle's
    suffix gets no such reading."""
    from poetbench.prosody.readings import word_stress
    from poetbench.prosody.scan import scan_poem

    assert word_stress("заснеженный", dic) == ((3, 2), "dict")
    poem = "Заснеженный и тихий сад,\nНад ним луна горит одна,\nИ звёзды тихие горят,\nИ ночь темна."
    assert scan_poem(poem, dic).accented_text.split("\n")[0].startswith("Засне́женный")


def test_a_mobile_verb_stress_may_take_its_other_reading(dic):
    """A second-conjugation present/future form keeps the dictionary's stress first and gets the other of
    its ending's syllable and the one before as a reading too (скло́нится / склони́тся, освети́т /
    осве́тит), as does an ending-stressed reflexive past in -лась (прервала́сь / прерва́лась); the meter
    chooses. A noun in -ит and a first-conjugation form get no such reading."""
    from poetbench.prosody.readings import word_stress
    from poetbench.prosody.scan import scan_poem

    assert word_stress("склонится", dic) == ((1, 2), "dict")
    assert word_stress("осветит", dic) == ((3, 2), "dict")
    assert word_stress("прервалась", dic) == ((3, 2), "dict")
    assert word_stress("магнит", dic) == ((2,), "dict")
    assert word_stress("напишет", dic) == ((2,), "dict")
    poem = "Склонится ива над водой,\nИ тихо ветер пролетит,\nИ месяц бледный, молодой\nНад спящим озером блестит."
    assert scan_poem(poem, dic).accented_text.split("\n")[0].startswith("Склони́тся и́ва")  # iamb: not Скло́нится


def test_rhyme_exact_and_slant():
    from poetbench.prosody.rhyme import SCORES, SLANT_THRESHOLD, rhyme_key, rhyme_score

    def key(word, stressed):
        return rhyme_key(word[stressed:], word[:stressed])

    assert rhyme_score(key("любовь", 3), key("кровь", 2)) == 1.0  # final devoicing: в = ф
    assert rhyme_score(key("красный", 2), key("ясный", 0)) == 1.0
    slant = rhyme_score(key("сердце", 1), key("дверца", 2))
    assert 0.7 < slant < 1.0  # unstressed vowels differ: slant, not exact
    assert rhyme_score(key("мечта", 4), key("красота", 6)) == 1.0
    assert rhyme_score(key("мечта", 4), key("зима", 3)) == 0.0  # open rhyme needs its support consonant
    assert rhyme_score(key("окно", 4), key("дом", 1)) == 0.0
    assert rhyme_score(key("звёзд", 2), key("гроз", 2)) == SCORES["closed_longer"]  # one more final consonant
    assert rhyme_score(key("сизую", 1), key("ризою", 1)) == SCORES["vowels"]  # у-у stays two vowels
    assert rhyme_score(key("капли", 1), key("ослабли", 3)) == SCORES["voicing"] < SCORES["vowels"]
    assert rhyme_score(key("вещи", 1), key("резче", 1)) == 1.0  # сч is read щ
    assert rhyme_score(key("плечо", 4), key("ещё", 2)) == 1.0  # supports ч and щ: both soft hushing
    assert rhyme_score(key("детской", 1), key("немецкой", 3)) == 1.0  # тск is read цк
    assert SLANT_THRESHOLD <= rhyme_score(key("тягостной", 1), key("радостный", 1)) < SCORES["trailing"]
    assert rhyme_score(key("озарить", 4), key("вид", 1)) == 1.0  # ь only softens: Rifma counts it
    assert rhyme_score(key("жираф", 3), key("жирах", 3)) == SCORES["closed"]  # other final obstruents
    assert rhyme_score(key("любовь", 3), key("любой", 3)) == 0.0  # an obstruent against й: heard
    assert rhyme_score(key("искал", 3), key("каскад", 3)) == 0.0  # a sonorant against an obstruent
    assert rhyme_score(key("дух", 1), key("круг", 2)) == SCORES["closed_velar"]  # velar finals


def test_scheme_takes_a_pair_test_in_place_of_the_threshold():
    """``accept`` decides which pairs may link (bench/rhyme_pairs.py's learned model); without it
    the threshold does, and the decoder's other rules stay."""
    from poetbench.prosody.rhyme import rhyme_key, scheme

    keys = [[rhyme_key(w[s:], w[:s])] for w, s in (("сердце", 1), ("любовь", 3), ("дверца", 2), ("кровь", 2))]
    assert scheme(keys)[0] == "ABAB"  # сердце / дверца: a slant rhyme over the threshold
    seen = []

    def exact_only(i, j, score, unweighted):
        seen.append((i, j))
        return unweighted >= 1.0

    assert scheme(keys, accept=exact_only)[0] == "-A-A"
    assert (0, 2) in seen and (1, 3) in seen
    assert scheme(keys, accept=lambda *_: False)[0] == "-A-A"  # exact pairs still link by the exact rule


def test_rhyme_may_shift_a_dictionary_stress(dic):
    """A line-final word may take a stress the dictionary lacks (му́зыка read музы́ка) when the
    meter puts an ictus there and the shifted reading rhymes exactly or closely (other unstressed
    vowels: клубни́ке); a weaker slant rhyme (a voiced consonant for a voiceless: интри́га) is not
    enough."""
    from poetbench.prosody.scan import SHIFTED_STRESS_WEIGHT, scan_poem

    poem = ("Над нами вновь звучит музыка,\nГорит вечерняя звезда,\n"
            "И пахнет в воздухе клубника,\nИ в небе тихая вода.")
    result = scan_poem(poem, dic)
    assert result.meter_label == "iamb tetrameter" and result.rhyme_scheme == "ABAB"
    assert result.lines[0].accented.endswith("музы́ка,")
    assert result.lines[0].meter == "iamb tetrameter" and result.regularity == 1.0  # the line fits once shifted
    assert result.lines[0].rhyme_score == SHIFTED_STRESS_WEIGHT  # a licence: not counted as exact
    close = scan_poem(poem.replace("клубника", "клубнике"), dic)
    assert close.rhyme_scheme == "ABAB" and close.lines[0].accented.endswith("музы́ка,")
    slant = scan_poem(poem.replace("клубника", "интрига"), dic)  # a weak slant does not move the stress
    assert slant.rhyme_scheme == "-A-A" and slant.lines[0].accented.endswith("му́зыка,")


def test_stanzas_and_four_quatrains(dic):
    from poetbench.prosody.scan import scan_poem

    q = "Мой дядя самых честных правил,\nКогда не в шутку занемог,\nОн уважать себя заставил\nИ лучше выдумать не мог."
    result = scan_poem("\n\n".join([q] * 4), dic)
    assert result.stanzas == 4 and result.stanza_sizes == [4, 4, 4, 4] and result.four_quatrains
    assert result.rhyme_scheme == "ABAB ABAB ABAB ABAB"
    assert not scan_poem(q, dic).four_quatrains


def test_a_poem_typed_with_lookalike_or_invisible_characters_scans_as_printed(dic):
    from poetbench.prosody.scan import scan_poem
    from poetbench.words import cyrillic_lookalikes

    q = "Мой дядя самых честных правил,\nКогда не в шутку занемог,\nОн уважать себя заставил\nИ лучше выдумать не мог."
    typed = q.replace("самых", "сaмых").replace("Когда", "Koгдa").replace("мог.", "мoг.")  # Latin a, K, o
    assert typed != q and cyrillic_lookalikes(typed) == q
    assert cyrillic_lookalikes("Hello, мир: OK") == "Hello, мир: OK"  # a wholly Latin word stays
    got, want = scan_poem(typed, dic), scan_poem(q, dic)
    assert (got.meter, got.feet, got.rhyme_scheme) == (want.meter, want.feet, want.rhyme_scheme) == ("iamb", 4, "ABAB")
    assert [line.syllables for line in got.lines] == [line.syllables for line in want.lines]
    invisible = q.replace("дядя", "дя\u00adдя").replace("честных", "чест\u200bных").replace("Мой", "Мо\u0438\u0306")
    got = scan_poem(invisible, dic)  # a soft hyphen, a zero-width space, a й typed as и and a breve
    assert (got.meter, got.feet, got.rhyme_scheme) == (want.meter, want.feet, want.rhyme_scheme)
    assert [line.syllables for line in got.lines] == [line.syllables for line in want.lines]


@pytest.mark.parametrize("text", ["", "   \n\n", "Hello world\nthis is English", "12345 !!! ...",
                                  "слово " * 20000, "\n".join(["Ночь, улица, фонарь, аптека"] * 3000)])
def test_odd_input_has_a_defined_result(dic, text):
    from poetbench.prosody.scan import scan_poem

    result = scan_poem(text, dic)
    assert 0.0 <= result.regularity <= 1.0
    assert isinstance(result.rhyme_scheme, str)
    if not any("а" <= c <= "я" for c in text.lower()):
        assert result.meter == "none" and result.regularity == 0.0


@needs_rifma
def test_batch_jsonl_matches_rifma_format(dic, tmp_path):
    from click.testing import CliRunner

    from poetbench.cli import cli

    rows = [json.loads(l) for l in open(SHARED / "prosody" / "rifma_dev.jsonl", encoding="utf-8")][:20]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({k: r[k] for k in ("id", "poem_text")}, ensure_ascii=False) + "\n"
                           for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["scan", "--jsonl", str(src), "--out", str(out),
                                      "--prosody-dir", str(PROSODY)])
    assert result.exit_code == 0, result.output
    got = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert [g["id"] for g in got] == [r["id"] for r in rows]
    for g, r in zip(got, rows):
        assert set(g) >= {"id", "accented_text", "rhyme_scheme", "meter", "feet", "regularity"}
        assert g["accented_text"].replace("\u0301", "") == r["poem_text"].replace("\u0301", "")


@needs_rifma
def test_rifma_sample_accuracy(dic):
    """A small, fixed Rifma sample; the full figures are in bench/RESULTS.md (bench/prosody_accuracy.py)."""
    from poetbench.prosody.rhyme import normalise_scheme
    from poetbench.prosody.scan import scan_poem

    rows = [json.loads(l) for l in open(SHARED / "prosody" / "rifma_dev.jsonl", encoding="utf-8")][:200]
    ok = sum(normalise_scheme(scan_poem(r["poem_text"], dic).rhyme_scheme) == normalise_scheme(r["rhyme_scheme"])
             for r in rows)
    assert ok / len(rows) >= 0.8


def test_scan_cli_single_poem(dic, tmp_path):
    from click.testing import CliRunner

    from poetbench.cli import cli

    poem = tmp_path / "p.txt"
    poem.write_text(TEXTBOOK[2][0], encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(poem), "--json", "--prosody-dir", str(PROSODY)])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["meter_label"] == "trochee tetrameter" and data["rhyme_scheme"] == "ABAB"
    result = CliRunner().invoke(cli, ["scan"])
    assert result.exit_code == 2
    # the table: a row per line, an empty row per stanza break, none for the file's last newline
    poem.write_text("\n" + TEXTBOOK[2][0].replace("\n", "\n\n", 1) + "\n\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(poem), "--prosody-dir", str(PROSODY)])
    rows = [r for r in result.output.splitlines() if r.startswith("│")]
    assert result.exit_code == 0 and len(rows) == len(TEXTBOOK[2][0].splitlines()) + 1, result.output
    assert rows[0].strip("│ ") and not rows[1].strip("│ ") and rows[-1].strip("│ ")
    # then the summary, in words on a line of its own (it was a caption wrapped to the table's width)
    summary = result.output.splitlines()[-1]
    assert summary.startswith("clausulas: ") and "stanzas: 1+" in summary and "rhymed lines" in summary
    assert "{" not in summary and "[" not in summary


def test_scan_poems_is_scan_poem_in_a_batch_and_restores_the_collector(dic):
    import gc

    from poetbench.prosody.scan import scan_poem, scan_poems

    texts = ["Над нами вновь звучит музыка,", "", "Горит вечерняя звезда,\n\nИ в небе тихая вода."]
    assert [s.to_dict() for s in scan_poems(texts, dic)] == [scan_poem(t, dic).to_dict() for t in texts]
    assert gc.isenabled()
    gc.disable()
    try:
        scan_poems(texts, dic)
        assert not gc.isenabled()  # a caller's own setting is kept
    finally:
        gc.enable()


def test_rubai_third_line_is_lettered_but_unrhymed(dic):
    """Rifma letters the rubai's unrhymed third line (AABA); it still does not count as rhymed."""
    from poetbench.prosody.scan import scan_poem

    result = scan_poem("Горит вечерняя звезда,\nТечёт спокойная вода,\nНад лесом тихий ветер веет,\n"
                       "И не вернётся никогда.", dic)
    assert result.rhyme_scheme == "AABA"
    assert result.rhyme_rate == 0.75 and result.lines[2].rhyme_score == 0.0


def test_decoder_rules_switch_off(dic, monkeypatch):
    """The decoder's switches (what bench/rhyme_cv.py re-selects by cross-validation) do what they say."""
    from poetbench.prosody import rhyme
    from poetbench.prosody.scan import scan_poem

    poem = "Горит вечерняя звезда,\nТечёт спокойная вода,\nНад лесом тихий ветер веет,\nИ не вернётся никогда."
    monkeypatch.setitem(rhyme.RULES, "rubai", False)
    assert scan_poem(poem, dic).rhyme_scheme == "AA-A"
    monkeypatch.setitem(rhyme.SCORES, "closed_velar", 0.0)
    rhyme.rhyme_score.cache_clear()
    try:
        assert rhyme.rhyme_score(rhyme.rhyme_key("ух", "д"), rhyme.rhyme_key("уг", "кр")) == 0.0
    finally:
        rhyme.rhyme_score.cache_clear()


def test_compound_and_postfix_rhymes(dic):
    """A line ending on a monosyllable may rhyme from the stress of the word before it (мечта́ть я /
    собра́тья; an unstressed clitic then takes the stress: мне́ бы / потре́ба), and a two-syllable
    postfix on its own secondary stress (когда́-нибу́дь / гру́дь)."""
    from poetbench.prosody.scan import scan_poem

    for text in ("И я сижу один, могу мечтать я,\nКак вы придёте, милые собратья.",
                 "Я б улетел, когда бы крылья мне бы,\nНо держит дом, и служба, и потреба.",
                 "Я вновь приду сюда когда-нибудь\nИ положу тебе цветы на грудь."):
        result = scan_poem(text, dic)
        assert result.rhyme_scheme == "AA", text
        assert all(line.rhyme_score >= 0.72 for line in result.lines)


def test_every_exact_pair_links_and_distant_slant_needs_more(dic):
    """Exact rhymes three lines apart join one letter even when each line has a nearer partner
    (AABAAB); a weak slant rhyme (пла́щ / пла́ч, 0.75) links alternate lines but not lines three
    apart, which need a closer rhyme."""
    from poetbench.prosody.scan import scan_poem

    six = ("Бежали козы в поле за лугами,\nСтучали звонко острыми рогами,\nИ солнце грело спины им с утра;\n"
           "Пастух за ними шёл с двумя кнутами,\nИ пёс бежал с весёлыми глазами,\nИ пахло дымом нашего костра.")
    assert scan_poem(six, dic).rhyme_scheme == "AABAAB"
    a, b = "Накинул я на плечи старый плащ,", "Но слышал только ветра горький плач"
    c, d = "Ушёл туда, где ждёт меня дорога,", "И там в тиши просил покоя у порога"
    assert scan_poem("\n".join([a, c, b, d]), dic).rhyme_scheme == "ABAB"
    assert scan_poem("\n".join([a, c, d, b]), dic).rhyme_scheme == "-AA-"


def test_poroshok_rhymes_its_second_and_fourth_lines(dic):
    """The порошок (four lowercase lines, 9-8-9-2 syllables) rhymes lines 2 and 4 by its form, often
    loosely (траву́ / ау́): linked when the stressed vowels agree, with a low score; the same lines
    written as an ordinary quatrain are not a rhyme."""
    from poetbench.prosody.scan import scan_poem

    text = "пошёл с утра гулять в лесу я\nи заблудился там в траву\nкричал весь день зови не зови\nау"
    result = scan_poem(text, dic)
    assert result.rhyme_scheme == "-A-A"
    assert 0 < result.lines[1].rhyme_score < 0.72
    assert scan_poem(text.capitalize(), dic).rhyme_scheme == "----"


def test_a_homograph_rhymes_by_one_reading(dic):
    """A line-final word with two readings (отли́та / отлита́) may rhyme with one line or with
    another, not with both at once: a word has one stress."""
    from poetbench.prosody.scan import scan_poem

    result = scan_poem("Была у нас одна мечта,\nКак будто в камне Афродита,\nИз серебра она отлита.", dic)
    assert result.rhyme_scheme in ("A-A", "-AA")
    stressed = result.lines[2].accented
    assert stressed.endswith("отлита́.") == (result.rhyme_scheme == "A-A")


def test_a_numeral_compound_is_stressed_after_its_prefix(dic):
    """трёх-/четырёх-: the prefix's ё is a secondary stress (the dictionary's `1",3`), not the word's stress."""
    from poetbench.prosody.scan import scan_poem

    assert "Трёхцве́тный" in scan_poem("Трёхцветный флаг над городом моим", dic).accented_text
    assert "трехцве́тный" in scan_poem("трехцветный флаг над городом моим", dic).accented_text
    assert "Трёхзвё́здный" in scan_poem("Трёхзвёздный вечер", dic).accented_text  # a later ё still decides


def test_a_polysyllabic_function_word_goes_unstressed_off_the_beat(dic):
    """Prepositions, conjunctions and the dictionaries' unstressed readings of two or more syllables
    (передо, или, чтобы) lose their stress where it would fall on a weak position, as monosyllables
    do; on a strong position they keep it."""
    from poetbench.prosody.scan import scan_poem

    poem = scan_poem("Я помню чудное мгновенье:\nПередо мной явилась ты,\nКак мимолетное виденье,\n"
                     "Как гений чистой красоты.", dic)
    assert poem.meter_label == "iamb tetrameter" and poem.regularity == 1.0
    assert poem.lines[1].accented.startswith("Передо мно́й")
    # the line ends on a clitic the scan stresses (ты́): its fourth foot, as its pattern shows
    assert poem.lines[1].meter == "iamb tetrameter" and poem.lines[1].pattern == "---/-/-/"
    line = scan_poem("Я шёл домой или бежал", dic).lines[0]  # iamb: или on a weak position
    assert "или" in line.accented and line.meter == "iamb tetrameter"
    assert "И́ли" in scan_poem("Или бури грозный гул", dic).lines[0].accented  # trochee: on the beat
    assert "чтобы" in scan_poem("Но я, чтобы забыть её", dic).lines[0].accented


def test_the_function_word_list_is_pymorphy3s():
    """poetbench/data/function_words.tsv (written from pymorphy3's dictionary, which takes 40 s to
    read whole) lists words pymorphy3 parses as prepositions or conjunctions, the two-syllable ones
    the engine may unstress among them, and no inflecting word."""
    from poetbench.prosody.morph import function_words
    from poetbench.words import morph

    words = function_words(frozenset({"PREP", "CONJ"}))
    assert {"перед", "передо", "через", "между", "если", "чтобы", "будто", "или"} <= words
    assert not {"берег", "ветер", "тобой"} & words
    for word in words:
        parts = {str(p.tag.POS) for p in morph().parse(word) if p.is_known}
        assert parts & {"PREP", "CONJ"}, word
    assert function_words(frozenset({"PREP"})) < words and "если" not in function_words(frozenset({"PREP"}))
