import json
import random

import pytest

from poetbench.corpus import cleaning as CL
from poetbench import corpus as C
from poetbench.corpus import readers as R
from poetbench.errors import ConfigError, CorpusError
from tests.conftest import SHARED, VOCAB, make_poem, write_corpus

POEM = "Я помню чудное мгновенье:\nПередо мной явилась ты,\nКак мимолетное виденье,\nКак гений чистой красоты."


# ---- cleaning --------------------------------------------------------------------------------

def test_clean_nfc_html_footnotes_dashes_whitespace():
    raw = ("<p>Ночь1 &amp; день -- свет</p>\r\n  Е\u0308лка   и\u00a0тень²  \n- Кто там? – спросил\n\n\n\n"
           "* * *\nНовая стро\u0301фа [12]\n")
    text = CL.clean_text(raw)
    assert text == "Ночь & день — свет\nЁлка и тень\n— Кто там? — спросил\n\nНовая строфа"


def test_clean_keeps_the_words_an_edition_supplied_or_took_from_the_drafts():
    """An academic edition's <...> around letters it supplied and [...] around words from the drafts
    are marks: the words stay (they are the poem's), the marks go; a note such as <?> or <нрзб.>, and
    an HTML tag, go whole."""
    raw = ("Тебя украсил <я> венком <из> диких роз,\nИ сладо<страстья> <?> жар <нрзб.>\n"
           "Угоднику и [деве] пресвятой, [12]\n<i>Мой</i> друг М<артынов>\n"
           "<Давыдова> <?>, живая жертва фурий.\nНашу матушку <->.\nПростите [3], друзья [4] мои <?> !")
    assert CL.clean_text(raw) == ("Тебя украсил я венком из диких роз,\nИ сладострастья жар\n"
                                  "Угоднику и деве пресвятой,\nМой друг Мартынов\n"
                                  "Давыдова, живая жертва фурий.\nНашу матушку.\nПростите, друзья мои!")


def test_clean_keeps_yo_hyphens_numbers_and_stanza_breaks():
    text = CL.clean_text("Всё тёмно-синее вокруг\nВ 1812 году\n\nКуда-то шёл\nОн")
    assert text == "Всё тёмно-синее вокруг\nВ 1812 году\n\nКуда-то шёл\nОн"


def test_a_line_without_a_letter_is_a_stanza_break():
    """What an edition sets between verses (Yesenin's `· · ·`, Lermontov's `. . . . .`, Pushkin's `………`
    and lone dashes, Tyutchev's `? ? ?`, dates) is no verse of the poet's, however it is typeset."""
    raw = ("Белеет парус\n· · ·\nОдинокой\n. . . . .\n\n………\nВ тумане\n—\nморя\n? ? ?\n"
           "голубом\n* * * [3]\nЧто ищет он\n1916\n")
    assert CL.clean_text(raw) == ("Белеет парус\n\nОдинокой\n\nВ тумане\n\nморя\n\nголубом\n\n"
                                  "Что ищет он")
    assert CL.clean_text("— Кто там?\nВ 1812 году") == "— Кто там?\nВ 1812 году"  # lines with words stay


def test_a_numbered_list_is_not_verse():
    contents = "Телец\nГолос\n1. Золотой голос\n2. Красят стену\n3. Утро в монастыре"
    assert CL.is_a_list(contents)
    assert not CL.is_a_list(POEM) and not CL.is_a_list("В 1812 году\n1. Раз\nдва\nтри")
    records, report = C.build_records("yesenin", [R.RawPoem(contents), R.RawPoem(POEM)], C.CorpusSettings())
    assert report.not_verse == 1 and [r["text"] for r in records] == [POEM]


def test_a_work_titled_as_of_doubtful_attribution_is_left_out():
    """An edition's Dubia (`Приложение 2. Приписываемое (Dubia)`, `Стихотворения, приписываемые
    Тютчеву`) is no evidence of the poet's style; the title class, not a list of works."""
    doubtful = ["Приложение 2. Приписываемое (Dubia)", "Стихотворения, приписываемые Тютчеву", "DUBIA"]
    assert all(CL.is_doubtful(t) for t in doubtful)
    assert not any(CL.is_doubtful(t) for t in (None, "", "Дубрава", "К Наталье", "Писатель",
                                                '"Молчит сомнительно Восток…"'))
    raw = [R.RawPoem(POEM, title=t) for t in doubtful] + [R.RawPoem(POEM, title="Парус")]
    records, report = C.build_records("tyutchev", raw, C.CorpusSettings())
    assert report.doubtful == 3 and [r["title"] for r in records] == ["Парус"]


def test_cyrillic_share():
    assert CL.cyrillic_share("Pourquoi craindrais-je de le dire") == 0
    assert CL.cyrillic_share(POEM) == 1
    assert CL.cyrillic_share("") == 0


def test_split_long_prefers_stanza_breaks():
    stanza = "\n".join(["строка"] * 4)
    text = "\n\n".join([stanza] * 5)  # 20 lines
    parts = CL.split_long(text, 8)
    assert [len(CL.verse_lines(p)) for p in parts] == [8, 8, 4]
    assert all("\n\n" in p or len(CL.verse_lines(p)) == 4 for p in parts)
    one = "\n".join(f"строка {i}" for i in range(20))  # no stanza breaks: cut by lines
    assert [len(CL.verse_lines(p)) for p in CL.split_long(one, 8)] == [8, 8, 4]
    assert CL.split_long(POEM, 8) == [POEM]


def test_near_duplicates():
    a = "\n".join(["раз два три четыре пять шесть семь восемь девять десять"] * 3)
    b = a + "\nодиннадцать"
    c = "совсем другой текст про осень и дождь и ветер над рекой в ноябре"
    assert CL.near_duplicates([b, a, c], 0.8) == {1}


def test_a_work_found_inside_a_longer_one_is_dropped_before_splitting():
    """One source publishes a long work whole, another a section of it as a poem of its own: the section
    is the work's text twice (and could be drawn into another split), so the whole is kept."""
    rng = random.Random(3)
    stanzas = [make_poem(rng, VOCAB["alpha"] + VOCAB["beta"], 4) for _ in range(20)]  # 80 lines: split into parts of 64 at most
    whole = "\n\n".join(stanzas)
    section = "\n\n".join(stanzas[14:18])  # spans the two parts the whole is split into
    other = make_poem(random.Random(9), VOCAB["gamma"], 8)
    assert len(CL.split_long(whole, 64)) == 2 and not any(section in p for p in CL.split_long(whole, 64))
    records, report = C.build_records("lermontov", [R.RawPoem(section, "Раздел"), R.RawPoem(whole, "Целое"),
                                                    R.RawPoem(other, "Другое")], C.CorpusSettings())
    assert report.inside_longer == 1 and report.near_duplicates == 0 and report.kept == 3
    assert {r["title"] for r in records} == {"Целое", "Другое"}
    # a near copy is still counted as one, by the records' own pass
    copy = whole.replace("\n\n", "\n", 1)
    _, report = C.build_records("lermontov", [R.RawPoem(whole), R.RawPoem(copy)], C.CorpusSettings())
    assert report.inside_longer == 0 and report.exact_duplicates + report.near_duplicates == 2 and report.kept == 2
    assert CL.near_duplicates([whole, section, other], 0.8, inside=True) == {1}


def test_build_records_counts_and_fields():
    raw = [R.RawPoem(POEM, "Т"), R.RawPoem(POEM + "\n"), R.RawPoem("две\nстроки"),
           R.RawPoem("One\nTwo\nThree\nFour", "en"), R.RawPoem(POEM.replace("ты", "ты,") + "\nЕщё строка")]
    records, report = C.build_records("pushkin", raw, C.CorpusSettings())
    assert report.read == 5 and report.exact_duplicates == 1 and report.too_short == 1
    assert report.not_cyrillic == 1 and report.near_duplicates == 1 and report.kept == 1
    rec = records[0]
    assert rec["id"] == f"pushkin-{rec['sha256'][:12]}" and rec["split"] in CL.SPLITS
    assert rec["sha256"] == CL.sha256(rec["text"])


def test_long_work_parts_share_a_split_and_cap_mode():
    import random

    rng = random.Random(0)
    words = "дуб клён ель ива липа сосна берёза осина ясень вяз тополь ольха рябина кедр пихта граб".split()
    text = "\n\n".join("\n".join(" ".join(rng.choices(words, k=5)) for i in range(4)) for s in range(30))
    records, report = C.build_records("x", [R.RawPoem(text)], C.CorpusSettings(max_lines=16))
    assert len(records) == 8 and report.split_parts == 7
    assert len({r["split"] for r in records}) == 1
    capped, report = C.build_records("x", [R.RawPoem(text)], C.CorpusSettings(max_lines=16, long_poems="cap"))
    assert len(capped) == 1 and report.capped == 1


def test_split_is_deterministic_and_stable_under_additions():
    def word(i):  # a distinct Cyrillic word per poem, so no two poems are near duplicates
        return "".join("абвгдежзик"[int(c)] for c in str(i))

    texts = [f"Стих номер {word(i)}\nвторая строка\nтретья строка\nчетвёртая строка" for i in range(300)]
    first, _ = C.build_records("x", [R.RawPoem(t) for t in texts[:200]], C.CorpusSettings())
    more, _ = C.build_records("x", [R.RawPoem(t) for t in texts], C.CorpusSettings())
    assert len(first) == 200 and len(more) == 300
    before = {r["id"]: r["split"] for r in first}
    after = {r["id"]: r["split"] for r in more}
    assert all(after[k] == v for k, v in before.items())
    shares = [sum(v == s for v in after.values()) / len(after) for s in CL.SPLITS]
    assert 0.7 < shares[0] < 0.9 and shares[1] > 0.04 and shares[2] > 0.04


# ---- formats ---------------------------------------------------------------------------------

def test_import_formats_agree(tmp_path):
    import csv

    rows = [{"title": f"Т{i}", "text": POEM.replace("ты", f"ты {i}"), "year": "1825"} for i in range(3)]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    with open(tmp_path / "a.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["title", "text", "year"])
        w.writeheader()
        w.writerows(rows)
    folder = tmp_path / "txt"
    folder.mkdir()
    for i, r in enumerate(rows):
        (folder / f"{i}.txt").write_text(f"{r['title']}\n\n{r['text']}\n", encoding="utf-8")
    texts = [[p.text for p in R.read_raw(x)] for x in (jsonl, tmp_path / "a.csv", folder)]
    assert texts[0] == texts[1] == texts[2]
    assert [p.title for p in R.read_raw(folder)] == ["Т0", "Т1", "Т2"]


def test_txt_without_title_line_uses_file_name(tmp_path):
    (tmp_path / "осень_вечер.txt").write_text(POEM, encoding="utf-8")
    (poem,) = R.read_raw(tmp_path)
    assert poem.title == "осень вечер" and poem.text == POEM


@pytest.mark.parametrize("name,content,expect", [
    ("bad.jsonl", '{"text": "а\\nб\\nв\\nг"}\n{"text": oops}\n', "bad.jsonl:2"),
    ("notobj.jsonl", '["a"]\n', "notobj.jsonl:1"),
    ("missing.jsonl", '{"title": "x"}\n', "missing.jsonl:1 field 'text'"),
    ("wrongtype.jsonl", '{"text": 5}\n', "field 'text'"),
    ("nocol.csv", "title,body\nx,y\n", "no column 'text'"),
    ("empty.jsonl", "", "no poems"),
    ("poems.docx", "x", "unknown corpus format"),
])
def test_bad_files_name_file_line_field(tmp_path, name, content, expect):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=expect.replace("'", ".").replace("(", r"\(")) as e:
        R.read_raw(path)
    assert "\n" not in str(e.value)


def test_cp1251_is_refused_with_line(tmp_path):
    path = tmp_path / "cp.jsonl"
    path.write_bytes('{"text": "ok"}\n'.encode() + '{"text": "Привет"}\n'.encode("cp1251"))
    with pytest.raises(CorpusError, match=r"cp.jsonl:2: not UTF-8"):
        R.read_raw(path)


# ---- authors and import ----------------------------------------------------------------------

def test_authors_file_and_import_is_cached(corpus_env):
    authors = C.load_authors(corpus_env["authors_file"])
    assert set(authors) == {"alpha", "beta", "gamma", "missing"}
    assert authors["alpha"].present and not authors["missing"].present
    assert "supply them yourself" in authors["missing"].how_to_supply()
    meta = C.import_author(authors["alpha"], corpus_env["corpus_dir"], C.CorpusSettings())
    out = corpus_env["corpus_dir"] / "alpha.jsonl"
    mtime = out.stat().st_mtime_ns
    again = C.import_author(authors["alpha"], corpus_env["corpus_dir"], C.CorpusSettings())
    assert again == meta and out.stat().st_mtime_ns == mtime  # reused, not rewritten
    write_corpus(corpus_env["root"] / "alpha.jsonl", "alpha", 61)  # the source changed: rebuilt
    assert C.import_author(authors["alpha"], corpus_env["corpus_dir"], C.CorpusSettings())["report"]["read"] == 61
    recs = C.load_records(corpus_env["corpus_dir"], "alpha")
    assert len({r["id"] for r in recs}) == len(recs) == meta["report"]["kept"] + 1
    assert sum(meta["splits"].values()) == meta["report"]["kept"]


@pytest.mark.parametrize("bad", ["../x", "Pushkin", "a/b", "", "1abc", "a" * 40])
def test_author_ids_are_validated(bad):
    with pytest.raises(ConfigError, match="invalid author id"):
        C.validate_author_id(bad)


def test_unknown_author(corpus_env):
    authors = C.load_authors(corpus_env["authors_file"])
    with pytest.raises(CorpusError, match="unknown author 'zed'"):
        C.select_authors(authors, ["zed"])


@pytest.mark.skipif(not (SHARED / "corpora" / "pushkin.jsonl").exists(), reason="needs ../shared/corpora")
def test_shared_corpus_imports_cleanly(tmp_path):
    author = C.Author("lermontov", "Михаил Юрьевич Лермонтов", SHARED / "corpora" / "lermontov.jsonl")
    meta = C.import_author(author, tmp_path, C.CorpusSettings())
    recs = C.load_records(tmp_path, "lermontov")
    assert meta["report"]["read"] == 399 and len(recs) > 350
    assert all(r["lines"] <= 64 and r["lines"] >= 4 for r in recs)
    assert 0.7 < meta["splits"]["train"] / len(recs) < 0.9


def test_authors_are_the_users_imported_and_added(corpus_env, tmp_path, monkeypatch):
    """`corpus authors` shows an author imported from elsewhere as present; `corpus add` declares a new
    author beside the shipped file (whose authors and corpus root stay as they are), which every later
    command finds, and which trains."""
    from click.testing import CliRunner

    from poetbench.cli import cli
    from poetbench.corpus import load_authors
    from poetbench.train import train
    from tests.conftest import micro_config, write_corpus

    monkeypatch.setenv("POETBENCH_CACHE", str(tmp_path / "cache"))
    flags = ["--authors-file", str(corpus_env["authors_file"]), "--corpus-dir", str(corpus_env["corpus_dir"])]
    runner = CliRunner()
    elsewhere = write_corpus(tmp_path / "elsewhere" / "m.jsonl", "gamma", 30, seed=3)
    out = runner.invoke(cli, ["corpus", "import", *flags, "--author", "missing", str(elsewhere)])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["corpus", "authors", *flags])
    assert out.exit_code == 0 and "imported" in out.output and "corpus import --author missing" not in out.output
    # a new author, with one command
    poems = write_corpus(tmp_path / "delta" / "d.jsonl", "beta", 40, seed=5)
    out = runner.invoke(cli, ["corpus", "add", "delta", str(poems), "--name", "Дельта Поэтович", *flags])
    assert out.exit_code == 0, out.output
    user = corpus_env["authors_file"].with_name("authors.user.toml")
    assert user.is_file() and "delta" in user.read_text(encoding="utf-8")
    authors = load_authors(corpus_env["authors_file"])
    assert authors["delta"].name == "Дельта Поэтович" and authors["alpha"].present  # the shipped ones unchanged
    out = runner.invoke(cli, ["corpus", "authors", *flags])
    assert "delta" in out.output and "Дельта" in out.output
    out = runner.invoke(cli, ["corpus", "add", "delta", str(poems), "--name", "Ещё Раз", *flags])
    assert out.exit_code != 0 and out.output.startswith("Error:") and "declared already" in out.output
    out = runner.invoke(cli, ["corpus", "add", "epsilon", str(tmp_path / "delta"), "--name", "Эпсилон", *flags])
    assert out.exit_code != 0 and "epsilon" not in user.read_text(encoding="utf-8")  # a failed import declares nothing
    result = train(micro_config(corpus_env, authors=["delta"]), output_dir=tmp_path / "adapters", log=lambda m: None)
    assert [r.author for r in result.results] == ["delta"] and (tmp_path / "adapters" / "delta").is_dir()


def test_a_quotation_retyped_with_lookalike_letters_is_still_shared():
    from poetbench.corpus.cleaning import sharing_a_line

    poet = ["Я помню чудное мгновенье:\nПередо мной явилась ты"]
    others = ["Так начал он:\n«Я пoмню чудное мгнoвенье» —\nи больше ничего", "Совсем другие строки о другом\nи снова"]
    assert sharing_a_line(others, poet) == {0}
