"""Translators' catalogues: the locale YAML written as gettext .po files (Babel) and read back,
with only the texts that changed moving, and a catalogue that would break a page refused whole."""

from __future__ import annotations

import shutil

import pytest
from babel.messages.pofile import read_po, write_po

from pipelines.lib import catalogues, i18n
from pipelines.lib.i18n import t


@pytest.fixture
def locales(tmp_path, monkeypatch):
    """A copy of the locale files, so the repository's own are never written."""
    folder = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, folder)
    monkeypatch.setattr(i18n, "LOCALES_DIR", folder)
    i18n.messages.cache_clear()
    yield folder
    i18n.messages.cache_clear()


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yaml"))}


def _edit(path, changes: dict):
    """Set msgstr of the messages (by key) in a .po file, as a translator's tool would."""
    with path.open("rb") as f:
        cat = read_po(f)
    for key, text in changes.items():
        message = next((m for m in cat if m.context == key), None)
        if message is None:
            cat.add("new", text, context=key)
        else:
            message.string = text
    with path.open("wb") as f:
        write_po(f, cat, width=0)


def test_exported_catalogues_read_back_change_nothing(locales, tmp_path):
    before = _snapshot(locales)
    written = catalogues.export(tmp_path / "po")
    assert [p.name for p in written] == ["observatory-es.po", "observatory-en.po",
                                         "observatory-fr.po"]
    with written[2].open("rb") as f:
        french = read_po(f)
    message = next(m for m in french if m.context == "workflow.review.title")
    assert (message.id, message.string) == ("Review of submissions", "Examen des transmissions")
    assert "python-brace-format" in next(m for m in french if m.context == "cli.unit").flags
    for path in written:
        assert catalogues.import_po(path) == 0
    assert _snapshot(locales) == before


def test_a_translators_change_moves_only_its_own_line(locales, tmp_path):
    [_, _, french] = catalogues.export(tmp_path / "po")
    _edit(french, {"workflow.review.title": "Examen des envois",
                   "count.errors": ("{n} faute", "{n} fautes", "{n} fautes")})
    lines = {p.name: p.read_text().splitlines() for p in locales.glob("*.yaml")}
    assert catalogues.import_po(french) == 2
    changed = {name: [(a, b) for a, b in zip(old, (locales / name).read_text().splitlines(),
                                              strict=True) if a != b]
               for name, old in lines.items()}
    assert {name: len(pairs) for name, pairs in changed.items() if pairs} == {
        "workflow.yaml": 1, "counts.yaml": 1}
    assert t("workflow.review.title", "fr") == "Examen des envois"
    assert t("workflow.review.title", "es") == "Revisión de entregas"
    assert t("cli.unit_unknown", "fr", status="x", errors=3).endswith("(3 fautes)")
    assert t("cli.unit_unknown", "fr", status="x", errors=1).endswith("(1 faute)")


@pytest.mark.parametrize(("changes", "key"), [
    ({"nope.key": "x"}, "i18n.po.unknown_key"),
    ({"workflow.review.title": ""}, "i18n.po.empty"),
    ({"workflow.review.not_ready": ("{warnings} {bogus}", "{warnings}", "{warnings}")},
     "i18n.po.placeholder"),
    ({"cli.where": "feuille {sheet"}, "i18n.po.braces"),
])
def test_a_catalogue_that_would_break_a_page_is_refused_whole(locales, tmp_path, changes, key,
                                                               capsys):
    [_, _, french] = catalogues.export(tmp_path / "po")
    _edit(french, {"workflow.review.title": "Examen des envois", **changes})
    before = _snapshot(locales)
    with pytest.raises(catalogues.CatalogueRefused) as refused:
        catalogues.import_po(french)
    assert refused.value.key == key
    assert _snapshot(locales) == before  # not even the good change
    assert catalogues.main(["--lang", "es", "import", str(french)]) == 1
    message = capsys.readouterr().err
    assert "no se cambió nada" in message or "vuelva a intentarlo" in message
    assert "Traceback" not in message


def test_a_catalogue_for_another_language_or_no_catalogue_gets_one_message(locales, tmp_path,
                                                                            capsys):
    [_, _, french] = catalogues.export(tmp_path / "po")
    german = tmp_path / "observatory-de.po"
    german.write_text(french.read_text().replace("Language: fr", "Language: de"))
    assert catalogues.main(["--lang", "en", "import", str(german)]) == 1
    assert "“de”" in capsys.readouterr().err
    assert catalogues.main(["--lang", "fr", "import", str(tmp_path / "missing.po")]) == 1
    assert "n'a pas pu être lu" in capsys.readouterr().err
