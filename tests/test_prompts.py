from poetbench.prompts import default_prompts, salient_noun, theme_for_poem


def test_templates_are_the_seeds_wording():
    p = default_prompts()
    assert p.eval_prompt("осень", "Александр Сергеевич Пушкин") == (
        "Напиши стихотворение из 4 четверостиший на тему 'осень' в стиле поэта Александр Сергеевич Пушкин. "
        "Каждое четверостишие должно быть художественным и ритмичным."
    )
    assert p.themes[:5] == ("вдохновение", "осень", "грусть", "радость", "дружба")
    assert len(p.themes) >= 20 and len(set(p.themes)) == len(p.themes)
    assert "Пушкин" in p.train_prompt("осень", "Пушкин") and "{" not in p.train_prompt("осень", "Пушкин")


def test_theme_from_short_title_strips_numbering():
    assert theme_for_poem("16. Конь", "текст") == "Конь"
    assert theme_for_poem("Осень", "текст") == "Осень"


def test_theme_from_salient_noun_when_title_is_long_or_an_incipit():
    text = "Листья падают в саду,\nВ саду пустом и сиром,\nИ я по саду одиноко бреду\nНад этим миром."
    assert salient_noun(text) == "сад"
    assert theme_for_poem("«Листья падают в саду…»", text) == "сад"
    assert theme_for_poem("Очень длинное название этого стихотворения тут", text) == "сад"
    assert theme_for_poem(None, "Ах, ох, ух, эх,\nой, ай!") == "жизнь"


def test_user_prompt_files(tmp_path):
    import pytest

    from poetbench.errors import ConfigError
    from poetbench.prompts import load_prompts

    (tmp_path / "t.toml").write_text('themes = ["море", "степь"]\n', encoding="utf-8")
    p = load_prompts(tmp_path / "t.toml")
    assert p.themes == ("море", "степь") and p.eval_template == default_prompts().eval_template
    (tmp_path / "t.jsonl").write_text('{"theme": "зной"}\n{"theme": "ветер"}\n', encoding="utf-8")
    assert load_prompts(tmp_path / "t.jsonl").themes == ("зной", "ветер")
    (tmp_path / "bad.toml").write_text('topics = ["x"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown field"):
        load_prompts(tmp_path / "bad.toml")
    (tmp_path / "bad.jsonl").write_text('{"theme": "x", "weight": 2}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.jsonl:1"):
        load_prompts(tmp_path / "bad.jsonl")
    (tmp_path / "tpl.toml").write_text('eval_template = "Стихи о {theme}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="author_name"):
        load_prompts(tmp_path / "tpl.toml")
