"""The translation catalogues translators open: gettext ``.po`` files, written from and read back
into ``pipelines/locales/*.yaml`` (the one source), with Babel.

``python -m pipelines.lib.catalogues export DIR`` writes ``observatory-es.po``, ``-fr.po`` and
``-en.po``: one message per key (``msgctxt`` the key, ``msgid`` the English text, the language
translators work from, ``msgstr`` the language's text), a text with plural forms as a gettext
plural. Poedit, Weblate, Lokalize or OmegaT open them as they are.

``python -m pipelines.lib.catalogues import FILE.po`` puts the catalogue's texts back: each text
that changed replaces that key's line for that language in its YAML file, nothing else moves. A
key the observatory does not have, an empty text, or a text naming a ``{value}`` the key is never
given (it would fail where it is shown) refuses the whole catalogue and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
from pathlib import Path

import yaml
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from pipelines.lib import i18n
from pipelines.lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, messages, t

PROJECT = "observatory"
SOURCE = "en"
CLDR_TAGS = ("zero", "one", "two", "few", "many", "other")  # gettext's order of the forms


def forms_of(lang: str) -> list[str]:
    """The plural categories of ``lang``, in the order of its gettext forms (msgstr[0], ...)."""
    tags = Locale.parse(lang).plural_form.tags | {"other"}  # "other" is implicit in CLDR
    return [tag for tag in CLDR_TAGS if tag in tags]


class CatalogueRefused(ValueError):
    """A catalogue that cannot be put back; ``key`` and ``values`` say why in any language."""

    def __init__(self, message: str, /, **values: object):
        super().__init__(t(message, "en", **values))
        self.key, self.values = message, values


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def catalogue(lang: str) -> Catalog:
    """Every key's text in ``lang`` as a gettext catalogue (msgctxt = key, msgid = English)."""
    cat = Catalog(locale=lang, project=PROJECT, fuzzy=False)
    for key, texts in sorted(messages().items()):
        source, text = texts[SOURCE], texts.get(lang) or ""
        if isinstance(source, dict):
            forms = text if isinstance(text, dict) else {}
            cat.add((source["one"], source["other"]),
                    tuple(forms.get(f, forms.get("other", "")) for f in forms_of(lang)),
                    context=key)
        else:
            cat.add(source, text, context=key)
    return cat


def export(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in LANGUAGES:
        path = folder / f"{PROJECT}-{lang}.po"
        with path.open("wb") as out:
            write_po(out, catalogue(lang), width=0, sort_output=True)
        written.append(path)
    return written


def _yaml_value(text: str | dict[str, str]) -> str:
    """A text as one YAML line: JSON strings are YAML double-quoted scalars."""
    if isinstance(text, dict):
        return "{" + ", ".join(f"{form}: {json.dumps(value, ensure_ascii=False)}"
                               for form, value in text.items()) + "}"
    return json.dumps(text, ensure_ascii=False)


def _changes(path: Path) -> tuple[str, dict[str, str | dict[str, str]]]:
    """The catalogue's language and its texts that differ from the source, checked."""
    with path.open("rb") as f:
        try:
            cat = read_po(f)
        except Exception as error:  # noqa: BLE001 - any unreadable file gets one message
            raise CatalogueRefused("i18n.po.unreadable", path=path.name, error=error) from error
    lang = str(cat.locale or "").split("_")[0]
    if lang not in LANGUAGES:
        raise CatalogueRefused("i18n.po.language", path=path.name, language=lang or "-")
    known, changed = messages(), {}
    for message in cat:
        if not message.id:
            continue  # the header
        key = message.context
        if key not in known:
            raise CatalogueRefused("i18n.po.unknown_key", name=key or "-")
        current = known[key].get(lang)
        allowed = set().union(*(_fields(v) for text in known[key].values() if text
                                for v in (text.values() if isinstance(text, dict)
                                          else [text] if isinstance(text, str) else [])))
        if message.pluralizable:
            given = dict(zip(forms_of(lang), message.string, strict=False))
            parts = list(given.values())
            # "other" always; another form only where the language's words differ from it
            text = {f: v for f, v in given.items() if f == "other" or v != given.get("other")}
        else:
            text = message.string
            parts = [text]
        for part in parts:
            if not part.strip():
                raise CatalogueRefused("i18n.po.empty", name=key)
            try:
                unknown = _fields(part) - allowed
            except ValueError as error:  # an unbalanced brace
                raise CatalogueRefused("i18n.po.braces", name=key, error=error) from error
            if unknown:
                raise CatalogueRefused("i18n.po.placeholder", name=key,
                                       names=", ".join(sorted(unknown)))
        if text != current:
            changed[key] = text
    return lang, changed


def import_po(path: Path) -> int:
    """Put ``path``'s texts back into the locale files; returns how many texts changed."""
    lang, changed = _changes(path)
    pending, files = dict(changed), {}
    for locale in sorted(i18n.LOCALES_DIR.glob("*.yaml")):
        text = locale.read_text(encoding="utf-8")
        for key in [k for k in pending if re.search(rf"^{re.escape(k)}:$", text, re.M)]:
            block = re.search(rf"^{re.escape(key)}:\n((?:  .*\n)+)", text, re.M)
            body = block.group(1)
            entry = re.search(rf"^  {lang}:.*\n(?:    .*\n)*", body, re.M)
            line = f"  {lang}: {_yaml_value(pending.pop(key))}\n"
            body = body[:entry.start()] + line + body[entry.end():] if entry else body + line
            text = text[:block.start(1)] + body + text[block.end(1):]
        files[locale] = text
    for text in files.values():  # what will be read back is what the catalogue says
        entries = yaml.safe_load(text) or {}
        for key in [k for k in changed if k in entries]:
            if entries[key].get(lang) != changed[key]:
                raise CatalogueRefused("i18n.po.unwritable", name=key)
    if pending:
        raise CatalogueRefused("i18n.po.unwritable", name=next(iter(pending)))
    for locale, text in files.items():
        if text != locale.read_text(encoding="utf-8"):
            locale.write_text(text, encoding="utf-8")
    messages.cache_clear()
    return len(changed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.lib.catalogues",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    commands = parser.add_subparsers(dest="command", required=True)
    out = commands.add_parser("export", help="write one .po file per language into a folder")
    out.add_argument("folder", type=Path)
    back = commands.add_parser("import", help="put a translated .po file back into the locales")
    back.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "export":
        for path in export(args.folder):
            print(t("i18n.po.written", args.lang, path=path))
        return 0
    try:
        count = import_po(args.file)
    except CatalogueRefused as refused:
        print(t(refused.key, args.lang, **refused.values), file=sys.stderr)
        return 1
    except OSError as error:
        print(t("i18n.po.unreadable", args.lang, path=args.file, error=error.strerror),
              file=sys.stderr)
        return 1
    print(t("i18n.po.imported", args.lang, count=count, path=args.file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
