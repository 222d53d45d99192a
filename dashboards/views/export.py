"""Evaluator exports (issue 5; evaluator and admin): the same export as ``observatory export``
(pipelines.lib.export), from the published, disclosure-controlled mart, with its manifest."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from dashboards import ui, workflow_ui
from pipelines.lib.auth import require as authorize
from pipelines.lib.export import (
    FILE_NAMES,
    FORMATS,
    NothingToExport,
    indicator_codes,
    run_export,
)
from pipelines.lib.i18n import t
from pipelines.lib.publish import current_snapshot
from pipelines.orchestrator import ExportRefused, OrchestratorUnavailable, export_as_of
from pipelines.settings import get_settings

MIME = {"csv": "text/csv", "sdmx": "text/csv", "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json": "application/json"}

lang = ui.language()
user = workflow_ui.require("export")
settings = get_settings()

st.title(t("export.page.title", lang))
st.write(t("export.page.intro", lang))
snapshot = current_snapshot(settings)
if snapshot is None:
    st.info(t("export.cli.no_snapshot", lang))
    st.stop()

formats = st.multiselect(t("export.page.formats", lang), list(FORMATS), default=list(FORMATS),
                         key="export.formats")
indicators = st.multiselect(t("export.page.indicators", lang), indicator_codes(snapshot),
                            key="export.indicators")
use_as_of = st.checkbox(t("export.page.use_as_of", lang), key="export.use_as_of")
as_of = st.date_input(t("export.page.as_of", lang), value=settings.today, max_value=settings.today,
                      key="export.as_of") if use_as_of else None

if st.button(t("export.page.run", lang), icon=":material/download:", disabled=not formats,
             key="export.run"):
    authorize(user, "export")  # the server-side check, again, before any work
    with tempfile.TemporaryDirectory(prefix="observatory-export-") as tmp, st.spinner():
        try:
            if as_of is None:  # the current snapshot, read here
                run_export(settings, formats, Path(tmp), indicators=indicators or None,
                           lang=lang)
                files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())
                         if p.is_file()}
            else:  # a rebuild from the history: the orchestrator runs it, never this server
                files = export_as_of(settings, formats, as_of=as_of,
                                     indicators=indicators or None, lang=lang)
                if files is None:
                    raise NothingToExport(indicators, as_of)
        except NothingToExport:
            st.warning(t("export.cli.nothing", lang, indicators=" ".join(indicators) or "*",
                         as_of=as_of or "-"))
            st.stop()
        except ExportRefused:
            st.error(t("export.cli.disclosure_refused", lang))
            st.stop()
        except OrchestratorUnavailable:
            st.error(t("workflow.orchestrator_down", lang), icon=":material/cloud_off:")
            st.stop()
        except Exception as error:  # noqa: BLE001 - shown to the user, the page stays usable
            st.error(t("export.page.failed", lang, error=str(error)[:500]))
            st.stop()
        st.session_state["export.files"] = files

for name, content in st.session_state.get("export.files", {}).items():
    kind = "json" if name.endswith(".json") else next(
        (fmt for fmt, file_name in FILE_NAMES.items() if file_name == name), "csv")
    st.download_button(t("export.page.download", lang, name=name), data=content, file_name=name,
                       mime=MIME[kind], key=f"export.download.{name}")
