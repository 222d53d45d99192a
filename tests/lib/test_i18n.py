"""Counts in words: each language's plural forms (CLDR's rules through Babel), several counts in
one sentence, numbers written as the language writes them, and a catalogue that refuses plural
forms it could not choose from."""

from __future__ import annotations

import pytest
import yaml

from pipelines.lib import i18n
from pipelines.lib.i18n import LANGUAGES, messages, plural_category, t

UNIT = {"dataset": "TIP_VICTIMS", "country": "GTM", "period": "2026-Q3", "version": 2,
        "status": "ok"}


@pytest.mark.parametrize(("lang", "errors", "warnings", "said"), [
    ("es", 1, 0, "(1 error, 0 advertencias)"),
    ("es", 2, 1, "(2 errores, 1 advertencia)"),
    ("en", 0, 1, "(0 errors, 1 warning)"),
    ("en", 1, 12, "(1 error, 12 warnings)"),
    ("fr", 0, 1, "(0 erreur, 1 avertissement)"),  # French: 0 is singular
    ("fr", 2, 0, "(2 erreurs, 0 avertissement)"),
])
def test_two_counts_in_one_sentence_each_take_their_own_form(lang, errors, warnings, said):
    assert t("workflow.report.unit", lang, **UNIT, errors=errors, warnings=warnings).endswith(said)
    assert t("cli.unit", lang, **UNIT, errors=errors, warnings=warnings).endswith(said)


def test_a_sentence_agrees_with_its_count():
    assert t("workflow.review.not_ready", "es", warnings=1).startswith(
        "Tiene 1 advertencia sin explicar: el ministerio debe explicarla")
    assert t("workflow.review.not_ready", "es", warnings=4).startswith(
        "Tiene 4 advertencias sin explicar: el ministerio debe explicarlas")
    assert "1 demo file written" in t("cli.demo_written", "en", count=1, path="x")
    assert "0 fichier de démonstration écrit" in t("cli.demo_written", "fr", count=0, path="x")
    assert "0 demo files written" in t("cli.demo_written", "en", count=0, path="x")


def test_large_counts_are_written_as_the_language_writes_numbers():
    said = {lang: t("export.cli.done", lang, count=3, path="x", rows=25000) for lang in LANGUAGES}
    assert "(25.000 filas;" in said["es"] and "(25,000 rows;" in said["en"]
    assert "25\u202f000 lignes" in said["fr"]
    assert plural_category(1_000_000, "fr") == "many"  # falls back to the "other" form
    assert "1\u202f000\u202f000 erreurs" in t("cli.unit_unknown", "fr", status="x",
                                                errors=1_000_000)


def test_every_plural_text_gives_a_sentence_for_every_count_in_every_language():
    plural = [k for k, v in messages().items() if "plural" in v]
    assert len(plural) >= 15
    for key in plural:
        texts = messages()[key]
        for lang in LANGUAGES:
            assert isinstance(texts[lang], dict), (key, lang)
            for n in (0, 1, 2, 5, 21, 1_000_000):
                values = {name: "x" for name in ("path", "created", "rule", "submission",
                                                  "rows")}
                values[texts["plural"]] = n
                text = t(key, lang, **values)
                assert "{" not in text, (key, lang, text)


def test_plural_forms_without_other_or_without_their_count_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    bad = {"x.one_only": {"plural": "n", "es": {"one": "{n} uno"}, "en": "{n}"}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True))
    i18n.messages.cache_clear()
    try:
        with pytest.raises(ValueError, match="other"):
            i18n.messages()
        bad = {"x.no_count": {"es": {"one": "{n} uno", "other": "{n} varios"}, "en": "{n}"}}
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True))
        i18n.messages.cache_clear()
        with pytest.raises(ValueError, match="plural"):
            i18n.messages()
    finally:
        monkeypatch.undo()
        i18n.messages.cache_clear()
