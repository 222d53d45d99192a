"""The command line's bad-input corpus: what a tired or hostile operator types, and how each must
end. Every case ends in one line on stderr, in the reader's language, saying what is wrong, with
its exit code (2 for a usage error, 1 for input that was read and refused), never a traceback, and
without starting a run or writing to the warehouse.

``argv`` may name ``{dir}`` (an empty folder), ``{file}`` (an ordinary text file), ``{binary}``
(random bytes), ``{csv}`` (a CSV of another layout), ``{fifo}``, ``{link}`` (a symbolic link to
/etc/passwd), ``{missing}`` (a path that does not exist); ``stdin`` is what the command reads.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliCase:
    name: str
    argv: tuple[str, ...]
    code: int
    stdin: str = ""


CLI_CASES = [
    # Usage: what argparse catches, one translated line instead of its English usage block.
    CliCase("no command", (), 2),
    CliCase("unknown command", ("frobnicate",), 2),
    CliCase("submit without a file", ("submit",), 2),
    CliCase("export without --out", ("export",), 2),
    CliCase("unknown option", ("export", "--out", "{dir}", "--colour", "red"), 2),
    CliCase("review with an unknown decision", ("review", "maybe", "x", "--as", "ana"), 2),
    CliCase("users add with an unknown role", ("users", "add", "zoe", "--role", "king"), 2),
    CliCase("api on a port that is no number", ("api", "--port", "eighty"), 2),
    # Paths: a file that is not one, refused before anything reads it.
    CliCase("submit a folder", ("submit", "{dir}"), 2),
    CliCase("submit a FIFO", ("submit", "{fifo}"), 2),
    CliCase("submit a link to /etc/passwd", ("submit", "{link}"), 2),
    CliCase("submit a missing file", ("submit", "{missing}"), 2),
    CliCase("import-glotip a folder", ("import-glotip", "{dir}"), 2),
    CliCase("import-glotip a link", ("import-glotip", "{link}"), 2),
    CliCase("import-glotip random bytes", ("import-glotip", "{binary}"), 1),
    CliCase("import-glotip a CSV of another layout", ("import-glotip", "{csv}"), 1),
    CliCase("plan import random bytes", ("plan", "import", "{binary}"), 1),
    CliCase("plan import a missing file", ("plan", "import", "{missing}"), 2),
    CliCase("plan export onto a file", ("plan", "export", "--out", "{file}"), 2),
    CliCase("restore from a missing file", ("restore", "{missing}"), 2),
    CliCase("restore from random bytes", ("restore", "{binary}"), 1),
    # Export options.
    CliCase("export an unknown format", ("export", "--out", "{dir}", "--format", "pdf"), 2),
    CliCase("export onto a file", ("export", "--out", "{file}"), 2),
    CliCase("export where nothing can be written", ("export", "--out", "/proc/observatory"), 2),
    CliCase("export as of a date in another form", ("export", "--out", "{dir}", "--as-of",
                                                      "31/12/2024"), 2),
    CliCase("export as of a future date", ("export", "--out", "{dir}", "--as-of", "2999-01-01"), 2),
    CliCase("export before anything is published", ("export", "--out", "{dir}"), 1),
    # Templates.
    CliCase("template for a country that is no member", ("template", "--country", "FRA",
                                                           "--period", "2024-Q1", "--out",
                                                           "{dir}"), 2),
    CliCase("template for a period that is no quarter", ("template", "--country", "GTM",
                                                          "--period", "2024-Q9", "--out",
                                                          "{dir}"), 2),
    # Accounts.
    CliCase("users add with a weak password", ("users", "add", "zoe", "--role", "submitter",
                                                "--country", "GTM", "--password-stdin"), 2,
            stdin="aaaaaaaaaa\n"),
    CliCase("users add with a common password", ("users", "add", "zoe", "--role", "reviewer",
                                                  "--password-stdin"), 2,
            stdin="password123\n"),
    CliCase("users add a submitter without a country", ("users", "add", "zoe", "--role",
                                                         "submitter", "--password-stdin"), 2,
            stdin="a long and unusual passphrase 7\n"),
    CliCase("users disable an unknown account", ("users", "disable", "nobody"), 2),
    CliCase("review by an unknown account", ("review", "accept", "s-1", "--as", "nobody"), 2),
]


def materialise(argv: tuple[str, ...], folder: Path) -> list[str]:
    """``argv`` with its placeholders made real under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"GTM_2024-Q1_{name}.csv" for name in
             ("dir", "file", "binary", "csv", "fifo", "link", "missing")}
    if not paths["dir"].exists():
        paths["dir"].mkdir()
        paths["file"].write_text("not a folder\n")
        paths["binary"].write_bytes(random.Random(7).randbytes(4096))
        paths["csv"].write_text("a,b\n1,2\n")
        os.mkfifo(paths["fifo"])
        paths["link"].symlink_to("/etc/passwd")
    return [arg.format(**{k: str(v) for k, v in paths.items()}) for arg in argv]
