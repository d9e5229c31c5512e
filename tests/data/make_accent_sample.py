"""Write tests/data/prosody/: the entries of the shared stress dictionaries (MIT, see accent.LICENSE)
that the prosody tests' texts need, so those tests run without ../shared.

    .venv/bin/python tests/data/make_accent_sample.py

For every word of tests/test_prosody.py: its forms and every form of its pymorphy3 lexeme (the
engine looks lemmas and poetic -ье forms up), with the dictionaries' own stress codes; plus every
clitic (position 0) of accent1.dic.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from poetbench.prosody.stress import iter_dic  # noqa: E402
from poetbench.words import morph  # noqa: E402

SHARED = ROOT.parent / "shared" / "prosody"


def main() -> None:
    source = (ROOT / "tests" / "test_prosody.py").read_text(encoding="utf-8").replace("\u0301", "")
    wanted = {w.lower().replace("ё", "е") for w in re.findall(r"[А-Яа-яЁё]+", source)}
    for w in list(wanted):
        for parse in morph().parse(w)[:3]:
            wanted.update(f.word.replace("ё", "е") for f in parse.lexeme)
        wanted.add(re.sub(r"ь([яеюи])", r"и\1", w))  # the poetic -ье reading looks up -ие
    out = HERE / "prosody"
    out.mkdir(exist_ok=True)
    for name, keep in (("accent.dic", lambda form, code: form in wanted),
                       ("accent1.dic", lambda form, code: form in wanted or code == "0")):
        lines = sorted({f"{form}\t{code}" for form, code in iter_dic(SHARED / name) if keep(form, code)})
        (out / name).write_bytes(("\n".join(lines) + "\n").encode("cp1251"))
        print(f"{name}: {len(lines)} forms")
    shutil.copy(SHARED / "accent.LICENSE", out / "accent.LICENSE")


if __name__ == "__main__":
    main()
