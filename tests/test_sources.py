"""`poetbench corpus fetch`, offline: file:// URLs, a loopback HTTP server, a local dataset folder."""

import hashlib
import http.server
import io
import json
import random
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from poetbench.cli import cli
from poetbench.corpus.readers import read_source, read_text_collection
from poetbench.corpus.sources import download, load_sources
from tests.conftest import VOCAB, make_poem


def poems_jsonl(n=30, author="alpha", seed=0) -> bytes:
    rng = random.Random(seed)
    rows = [{"name": f"Стих {i}", "body": make_poem(rng, VOCAB[author]), "who": author} for i in range(n)]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("POETBENCH_CACHE", str(tmp_path / "cache"))
    authors = tmp_path / "authors.toml"
    authors.write_text('[authors.alpha]\nname = "Альфа"\npath = "nowhere/alpha.jsonl"\n'
                       '[authors.beta]\nname = "Бета"\npath = "nowhere/beta"\n', encoding="utf-8")
    return tmp_path


def fetch(env, sources_text, *extra):
    (env / "sources.toml").write_text(sources_text, encoding="utf-8")
    return CliRunner().invoke(cli, ["corpus", "fetch", "--authors-file", str(env / "authors.toml"),
                                    "--corpus-dir", str(env / "normalized"), *extra])


def test_fetch_file_url_with_checksum_and_field_mapping(env):
    data = poems_jsonl()
    src = env / "remote.jsonl"
    src.write_bytes(data)
    result = fetch(env, f'[[sources.alpha]]\nurl = "{src.as_uri()}"\nsha256 = "{sha(data)}"\n'
                        'fields = {text = "body", title = "name"}\n')
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in (env / "normalized" / "alpha.jsonl").read_text().splitlines()]
    assert len(rows) == 30 and rows[0]["author"] == "alpha" and rows[0]["title"].startswith("Стих")
    assert "alpha: read 30, kept 30 (too short 0, not Cyrillic 0" in result.output  # import's report line
    # the normalised corpus is then used by training/stats although the author's local path is missing
    from poetbench.config import preset
    from poetbench.corpus import prepare_corpora

    cfg = preset("tiny").replace(authors_file=str(env / "authors.toml"), corpus_dir=str(env / "normalized"))
    wanted, metas = prepare_corpora(cfg, ["alpha"])
    assert metas["alpha"]["report"]["kept"] == 30


def test_wrong_checksum_is_one_error_and_leaves_nothing(env):
    src = env / "remote.jsonl"
    src.write_bytes(poems_jsonl())
    result = fetch(env, f'[[sources.alpha]]\nurl = "{src.as_uri()}"\nsha256 = "{"0" * 64}"\n'
                        'fields = {text = "body"}\n')
    assert result.exit_code == 2
    assert "checksum mismatch" in result.output and "Traceback" not in result.output
    assert not (env / "normalized" / "alpha.jsonl").exists()
    assert not list((env / "cache").rglob("remote.jsonl*"))


def test_unpinned_source_is_recorded_then_enforced(env):
    src = env / "remote.jsonl"
    src.write_bytes(poems_jsonl())
    text = f'[[sources.alpha]]\nurl = "{src.as_uri()}"\nfields = {{text = "body"}}\n'
    assert fetch(env, text).exit_code == 0
    lock = json.loads((env / "sources.lock.json").read_text())
    assert lock == {src.as_uri(): sha(src.read_bytes())}
    src.write_bytes(poems_jsonl(seed=1))  # the "remote" file changed under the same URL
    result = fetch(env, text, "--force")
    assert result.exit_code == 0  # the cached, verified download is used; the changed file is not read
    import shutil

    shutil.rmtree(env / "cache")
    result = fetch(env, text, "--force")
    assert result.exit_code == 2 and "checksum mismatch" in result.output


def test_missing_column_and_filter(env):
    src = env / "remote.jsonl"
    src.write_bytes(poems_jsonl(10, "alpha") + poems_jsonl(10, "beta", seed=3))
    result = fetch(env, f'[[sources.alpha]]\nurl = "{src.as_uri()}"\n')
    assert result.exit_code == 2 and "no column 'text'" in result.output
    result = fetch(env, f'[[sources.alpha]]\nurl = "{src.as_uri()}"\nfields = {{text = "body"}}\n'
                        'filter = {who = "alpha"}\n')
    assert result.exit_code == 0 and "read 10" in result.output


@pytest.mark.parametrize("text,message", [
    ('[[sources.alpha]]\nurl = "ftp://x/y"\n', "url must be"),
    ('[[sources.alpha]]\nurl = "file:///x"\nhf = "hf://datasets/a/b/c"\n', "exactly one of"),
    ('[[sources.alpha]]\nurl = "file:///x"\nchecksum = "x"\n', "unknown key"),
    ('[[sources.alpha]]\nurl = "file:///x"\nsha256 = "abc"\n', "64 lowercase hex"),
    ('[[sources.alpha]]\nurl = "file:///x"\nformat = "docx"\n', "unknown format"),
    ('[[sources.alpha]]\nurl = "file:///no/such/file.jsonl"\n', "download failed"),
])
def test_bad_source_declarations(env, text, message):
    result = fetch(env, text)
    assert result.exit_code == 2 and message in result.output, result.output


def test_unknown_author_without_sources(env):
    result = fetch(env, '[[sources.alpha]]\nurl = "file:///x"\n', "--authors", "beta")
    assert result.exit_code == 2 and "no source declared for beta" in result.output


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    truncate_first = True
    calls: list = []

    def do_GET(self):  # noqa: N802
        rng = self.headers.get("Range")
        type(self).calls.append(rng)
        if self.path == "/missing":
            self.send_error(404, "Not Found")
            return
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = self.payload[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if type(self).truncate_first and not rng:
            self.wfile.write(body[: len(body) // 2])  # then the connection drops
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    _Handler.payload = poems_jsonl(40)
    _Handler.calls = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_truncated_download_resumes_with_range(env, server):
    data = _Handler.payload
    text = f'[[sources.alpha]]\nurl = "{server}/poems.jsonl"\nsha256 = "{sha(data)}"\nfields = {{text = "body"}}\n'
    first = fetch(env, text)
    assert first.exit_code == 2 and "interrupted" in first.output
    assert not (env / "normalized" / "alpha.jsonl").exists()
    assert list((env / "cache").rglob("*.part"))  # kept for resuming
    second = fetch(env, text)
    assert second.exit_code == 0, second.output
    assert _Handler.calls[-1] is not None and _Handler.calls[-1].startswith("bytes=")
    assert not list((env / "cache").rglob("*.part"))


def test_http_error_is_one_line(env, server):
    result = fetch(env, f'[[sources.alpha]]\nurl = "{server}/missing"\nsha256 = "{"a" * 64}"\n')
    assert result.exit_code == 2 and "HTTP 404" in result.output and "Traceback" not in result.output


def test_dataset_source_from_a_local_dataset_folder(env):
    folder = env / "hub_dataset"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(poems_jsonl(25, "beta"))
    result = fetch(env, f'[[sources.beta]]\ndataset = "{folder}"\nsplit = "train"\n'
                        'fields = {text = "body", title = "name"}\n')
    assert result.exit_code == 0, result.output
    rows = (env / "normalized" / "beta.jsonl").read_text().splitlines()
    assert len(rows) == 25


def test_archive_of_txt_poems(env):
    rng = random.Random(5)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(12):
            data = f"# Песня {i}\n\n{make_poem(rng, VOCAB['gamma'])}\n".encode()
            info = tarfile.TarInfo(f"repo-abc/poetry/gamma/{i:02d}.md")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("repo-abc/README.md")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    archive = env / "repo.tar.gz"
    archive.write_bytes(buf.getvalue())
    poems = read_source(archive, "txt-archive", members="*/poetry/gamma/*.md")
    assert len(poems) == 12 and poems[0].title == "Песня 0"
    zpath = env / "poems.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("a.txt", "Заглавие\n\n" + make_poem(rng, VOCAB["beta"]))
    assert read_source(zpath)[0].title == "Заглавие"


def test_archives_are_refused_by_what_they_unpack_to(tmp_path, monkeypatch):
    """A zip bomb never reaches memory: a member larger than a poem can be, or an archive whose
    members together unpack past the limit, is one error naming the archive (and the member)."""
    from poetbench.corpus import readers
    from poetbench.errors import CorpusError

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.txt", "Заглавие\n\nстрока")
        zf.writestr("big.txt", b"a" * (readers.MAX_MEMBER_BYTES + 1))
    assert bomb.stat().st_size < 10_000
    with pytest.raises(CorpusError, match=r"bomb\.zip!big\.txt.*not one poem"):
        read_source(bomb)
    assert [p.title for p in read_source(bomb, "txt-archive", members="ok*")] == ["Заглавие"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(3):
            info = tarfile.TarInfo(f"x/{i}.bin")
            info.size = 1000
            tf.addfile(info, io.BytesIO(b"\0" * 1000))
    tar = tmp_path / "many.tar.gz"
    tar.write_bytes(buf.getvalue())
    monkeypatch.setattr(readers, "MAX_ARCHIVE_EXPANDED", 2500)
    for archive in (tar, bomb):
        with pytest.raises(CorpusError, match="unpacks to more than 2,500 bytes"):
            read_source(archive, "txt-archive", members="*.md")
    fifo = tmp_path / "fifo.zip"
    __import__("os").mkfifo(fifo)
    with pytest.raises(CorpusError, match="FIFO"):
        read_source(fifo, "txt-archive")


def test_text_collection_titles_flush_left_verse_indented(tmp_path):
    text = ("Первое\n\n\t\tСтрока один\n\t\tСтрока два\n\n\t\tСтрока три\n\t\tСтрока четыре\n\n\n\n"
            "Второе\n\n(Подражание)\n\n\t\tИная строка\n\t\tЕщё строка\n\nДева\n\n\t\tРеплика\n")
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    poems = read_text_collection(path)
    assert [p.title for p in poems] == ["Первое", "Второе"]
    assert poems[0].text == "Строка один\nСтрока два\n\nСтрока три\nСтрока четыре"
    assert "Подражание" not in poems[1].text and "Дева" not in poems[1].text and "Реплика" in poems[1].text


def test_download_uses_cache(tmp_path):
    src = tmp_path / "f.jsonl"
    src.write_bytes(b'{"text": "x"}\n')
    first = download(src.as_uri(), sha(src.read_bytes()), tmp_path / "cache")
    src.unlink()
    assert download(src.as_uri(), sha(b'{"text": "x"}\n'), tmp_path / "cache") == first


def test_shipped_sources_file_is_valid():
    sources = load_sources(Path(__file__).resolve().parents[1] / "corpora" / "sources.toml")
    assert {"pushkin", "lermontov"} <= set(sources)
    assert all(s.url and "/" in s.url for group in sources.values() for s in group)


def test_local_path_source_and_hf_source(env, monkeypatch):
    (env / "mine").mkdir()
    (env / "mine" / "a.jsonl").write_bytes(poems_jsonl(12))
    result = fetch(env, '[[sources.alpha]]\npath = "mine/a.jsonl"\nfields = {text = "body"}\n')
    assert result.exit_code == 0 and "read 12" in result.output, result.output

    hub_file = env / "hub.jsonl"
    hub_file.write_bytes(poems_jsonl(7, "beta"))
    seen = {}

    def fake_download(repo_id, filename, repo_type, revision):
        seen.update(repo_id=repo_id, filename=filename, repo_type=repo_type, revision=revision)
        return str(hub_file)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    result = fetch(env, '[[sources.beta]]\nhf = "hf://datasets/someone/poems/data/beta.jsonl"\n'
                        'revision = "abc123"\nfields = {text = "body"}\n')
    assert result.exit_code == 0, result.output
    assert seen == {"repo_id": "someone/poems", "filename": "data/beta.jsonl", "repo_type": "dataset",
                    "revision": "abc123"}
