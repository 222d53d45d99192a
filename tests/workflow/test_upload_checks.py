"""Hostile and wrong files at the upload page's door (pipelines/lib/upload.py): refused before any
parsing, with a message in both languages; the stored name is always a generated one."""

from __future__ import annotations

import io
import zipfile

import pytest

from pipelines.lib.i18n import t
from pipelines.lib.template import blank_template, write_xlsx
from pipelines.lib.upload import MAX_UPLOAD_BYTES, check_upload, store_upload, uploads_dir
from pipelines.settings import get_settings


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
            return content.replace(b'<dimension ref="A1:O', b'<dimension ref="A1:O1048576" x="', 1)
        return content

    data = rezip(xlsx_bytes(tmp_path), replace=huge_dimension)
    check = refused("huge.xlsx", data, "workflow.upload.too_many_rows")
    assert check.values["rows"] == 1048576


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "..\\..\\boot.csv", "/tmp/x.csv",
                                  "a/b/c.csv"])
def test_path_separators_in_the_name_never_reach_the_disk(observatory_home, name):
    check = check_upload(name, b"dataset,country\n")
    assert check.ok
    stored = store_upload(get_settings(), b"dataset,country\n", check.extension)
    assert stored.parent == uploads_dir(get_settings())
    assert stored.name.startswith("upload-") and stored.suffix == ".csv"
    assert not any(part in stored.name for part in ("..", "passwd", "boot", "/", "\\"))
