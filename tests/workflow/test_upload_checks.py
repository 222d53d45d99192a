"""Hostile and wrong files at the upload page's door (pipelines/lib/upload.py): refused before any
parsing, with a message in both languages; the stored name is always a generated one, the user's
name is kept as text only. Also: Streamlit's own upload limit matches the cap, and the
cell-by-cell diff of "My submissions" reads workbooks in the capped child process."""

from __future__ import annotations

import io
import json
import math
import re
import tomllib
import zipfile
from pathlib import Path

import duckdb
import pytest
from filling import fill_template

from pipelines.lib import reader
from pipelines.lib.i18n import t
from pipelines.lib.intake import Delivery, load_report, sha256_of, take_in
from pipelines.lib.reports import version_changes
from pipelines.lib.sandbox import CappedReader
from pipelines.lib.template import blank_template, write_xlsx
from pipelines.lib.upload import (
    MAX_NAME_CHARS,
    MAX_UPLOAD_BYTES,
    check_upload,
    display_name,
    store_upload,
    uploads_dir,
)
from pipelines.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def xlsx_bytes(tmp_path) -> bytes:
    path = write_xlsx(tmp_path / "t.xlsx", blank_template("GTM", "2026-Q3"))
    return path.read_bytes()


def rezip(data: bytes, extra: dict[str, bytes] | None = None, replace=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if replace:
                content = replace(item.filename, content)
            target.writestr(item.filename, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def refused(name: str, data: bytes, key: str):
    check = check_upload(name, data)
    assert not check.ok and check.key == key, check
    for lang in ("es", "en"):
        assert t(check.key, lang, **(check.values or {}))  # a message a person can read
    return check


def test_the_template_and_a_csv_pass(tmp_path):
    assert check_upload("GTM_2026-Q3.xlsx", xlsx_bytes(tmp_path)).extension == "xlsx"
    assert check_upload("gtm.CSV", b"dataset,country\nTIP_VICTIMS,GTM\n").extension == "csv"


def test_size_cap():
    refused("big.csv", b"a," * (MAX_UPLOAD_BYTES // 2 + 1), "workflow.upload.too_big")


def test_signature_not_extension(tmp_path):
    refused("report.xlsx", b"dataset,country\n", "workflow.upload.bad_signature")
    refused("program.xlsx", b"MZ\x90\x00" + b"\x00" * 100, "workflow.upload.bad_signature")
    refused("data.csv", xlsx_bytes(tmp_path), "workflow.upload.bad_signature")
    refused("data.csv", b"\x89PNG\r\n\x1a\n....", "workflow.upload.bad_signature")
    refused("data.csv", b"dataset\x00,country", "workflow.upload.bad_signature")
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("hello.txt", "hi")
    refused("archive.xlsx", plain_zip.getvalue(), "workflow.upload.bad_signature")
    refused("macro.xlsm", xlsx_bytes(tmp_path), "workflow.upload.bad_extension")
    refused("noextension", b"x", "workflow.upload.bad_extension")
    refused("empty.csv", b"", "workflow.upload.empty")


def test_zip_bomb(tmp_path):
    bomb = rezip(xlsx_bytes(tmp_path), extra={"xl/media/padding.bin": b"\0" * (60 * 2**20)})
    assert len(bomb) < MAX_UPLOAD_BYTES  # small on the wire, huge unpacked
    refused("bomb.xlsx", bomb, "workflow.upload.zip_bomb")


def test_a_sheet_that_declares_a_million_rows(tmp_path):
    def huge_dimension(name, content):
        if name.startswith("xl/worksheets/sheet2"):
            return re.sub(rb'<dimension ref="A1:([A-Z]+)\d+"', rb'<dimension ref="A1:\g<1>1048576"',
                          content, count=1)
        return content

    data = rezip(xlsx_bytes(tmp_path), replace=huge_dimension)
    check = refused("huge.xlsx", data, "workflow.upload.too_many_rows")
    assert check.values["rows"] == 1048576


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "..\\..\\boot.csv", "/tmp/x.csv",
                                  "a/b/c.csv", "C:\\Users\\ana\\GTM.csv", "GTM\x00.csv.xlsx",
                                  "..", ".", "", "GTM/..", "GTM.csv/"])
def test_a_name_with_path_separators_is_refused_with_a_message(name):
    check = refused(name, b"dataset,country\n", "workflow.upload.bad_name")
    for lang, rename in (("es", "Cambie el nombre"), ("en", "Rename the file")):
        assert rename in t(check.key, lang)


@pytest.mark.parametrize("name", ["GTM_2026-Q3.csv", "Informe GTM (T3) ..final.csv",
                                  "..GTM.csv", "ñandú 2026.CSV"])
def test_an_ordinary_name_passes(name):
    assert check_upload(name, b"dataset,country\n").ok


def test_the_stored_name_is_always_a_generated_one(observatory_home):
    stored = store_upload(get_settings(), b"dataset,country\n", "csv")
    assert stored.parent == uploads_dir(get_settings())
    assert stored.name.startswith("upload-") and stored.suffix == ".csv"


def test_the_display_name_is_text_only():
    assert display_name(" Informe GTM\x00\x1b[31m T3.xlsx\n") == "Informe GTM[31m T3.xlsx"
    assert len(display_name("a" * 1000 + ".csv")) == MAX_NAME_CHARS


def test_the_users_file_name_is_kept_as_text_in_the_records(observatory_home, fixture_path,
                                                            tmp_path):
    """The file keeps its generated name on disk; the report, raw.files, the findings and the
    audit event carry the name the user gave."""
    source = fixture_path("valid_gtm_2024q1_utf8.csv")
    stored = store_upload(get_settings(), source.read_bytes(), "csv")
    original = "Informe =GTM 2024 T1.csv"
    [outcome] = take_in([Delivery(stored, channel="cli", original_name=original)], get_settings())
    assert outcome.file_name == original
    assert load_report(get_settings(), outcome.sha256).file_name == original
    with duckdb.connect(str(get_settings().warehouse_path), read_only=True) as con:
        assert con.execute("select original_name from raw.files").fetchall() == [(original,)]
        details = con.execute("select details from raw.audit_events where action = 'received'"
                              ).fetchone()[0]
    assert json.loads(details)["file_name"] == original
    assert sorted(p.name for p in (observatory_home / "archive").iterdir()) == [
        outcome.sha256, f"{outcome.sha256}.report.json"]


def test_streamlit_holds_no_more_than_the_upload_cap():
    """Streamlit keeps an upload in memory up to ``server.maxUploadSize`` MB before the page's
    checks run: the config follows the one cap, ``MAX_UPLOAD_BYTES`` (twice it in MB, rounded
    up, so a file somewhat over the cap gets our translated message, not Streamlit's)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == 2 * math.ceil(MAX_UPLOAD_BYTES / 2**20)


def test_version_changes_reads_workbooks_in_the_capped_child(observatory_home, tmp_path,
                                                            monkeypatch):
    """The cell-by-cell diff runs in the dashboard's process: the archived workbooks are parsed
    by the capped child (sandbox.CappedReader), never by the server process itself."""
    settings = get_settings()
    settings.ensure_dirs()
    shas = []
    for unknown in (0, 4):
        path = write_xlsx(tmp_path / f"v{unknown}.xlsx", blank_template("GTM", "2026-Q3"))
        data = fill_template(path, unknown_victims=unknown).read_bytes()
        shas.append(sha256_of(data))
        (settings.archive_dir / shas[-1]).write_bytes(data)

    def in_this_process(data):
        raise AssertionError("a workbook was parsed in the server process")

    monkeypatch.setattr(reader, "_read_xlsx", in_this_process)  # the spawned child is unaffected
    used = []
    real_read = CappedReader.read
    monkeypatch.setattr(CappedReader, "read",
                        lambda self, data, name: used.append(name) or real_read(self, data, name))
    changes = version_changes(settings, shas[0], shas[1], "TIP_VICTIMS")
    assert used == shas
    assert {"cell": "VIC_DETECTED · sex=_U · age=_U · exploitation_form=_T · citizenship=_T · "
                    "identification_channel=_T", "before": "0", "after": "4"} in changes
    # Past the child's limits a file reads as having no cells; the server never parses it.
    assert version_changes(settings, shas[0], shas[1], "TIP_VICTIMS",
                           reader=CappedReader(seconds=0.001)) == []


def test_a_polled_report_is_never_seen_half_written(tmp_path, monkeypatch):
    """The pages poll for a run's report file and read it once it exists: it appears whole (the
    plan page read a half-written one under load and failed), and an earlier one stays whole
    until it is replaced."""
    import os

    from pipelines.lib import reports

    target = tmp_path / "plan" / "run.report.json"
    seen = []
    rename = os.replace

    def replace(source, destination):
        seen.append((Path(destination).exists(), Path(source).read_text(encoding="utf-8")))
        rename(source, destination)

    monkeypatch.setattr(reports.os, "replace", replace)
    reports.write_atomically(target, '{"version": 1}')
    reports.write_atomically(target, '{"version": 2}')
    assert seen == [(False, '{"version": 1}'), (True, '{"version": 2}')]
    assert target.read_text(encoding="utf-8") == '{"version": 2}'
    assert [p.name for p in target.parent.iterdir()] == ["run.report.json"]
