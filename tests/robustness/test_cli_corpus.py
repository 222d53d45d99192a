"""Every case of the command line's bad-input corpus (cli_corpus.py), in each language: its exit
code, one line on stderr in that language, no traceback, nothing started or written."""

from __future__ import annotations

import io

import pytest

from pipelines.cli import main
from pipelines.lib.i18n import LANGUAGES
from tests.robustness.cli_corpus import CLI_CASES, materialise


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda case: case.name)
def test_bad_input_on_the_command_line_ends_in_one_line(case, observatory_home, tmp_path, capsys,
                                                         monkeypatch):
    said = {}
    for lang in LANGUAGES:
        monkeypatch.setattr("sys.stdin", io.StringIO(case.stdin))
        code = main(["--lang", lang, *materialise(case.argv, tmp_path / "files")])
        err = capsys.readouterr().err.strip()
        assert code == case.code, (lang, err)
        assert err and "\n" not in err and "Traceback" not in err, err
        said[lang] = err
    assert len(set(said.values())) == len(LANGUAGES), said  # each in its own words
    assert not (observatory_home / "warehouse.duckdb").exists()
    assert not (observatory_home / "archive").exists() or not any(
        (observatory_home / "archive").iterdir())


def test_the_corpus_covers_every_command_that_reads_input():
    covered = {case.argv[0] for case in CLI_CASES if case.argv}
    assert covered >= {"submit", "import-glotip", "export", "template", "plan", "users",
                       "review", "restore", "api"}
