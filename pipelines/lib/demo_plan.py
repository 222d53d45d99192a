"""The demo's regional plan: ILLUSTRATIVE, never the coalition's (DOMAIN.md §9).

``observatory demo`` loads the demo submissions, then writes this plan and imports it as a plan
version flagged illustrative (``raw.plan_versions.illustrative``), so every page and export that
shows it says so. Its baselines are the published annual values of the demo data (read from the
serving snapshot, never the warehouse; a hidden value is never copied into a plan), its targets
simple multiples of them. Deterministic: the same snapshot gives the same bytes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from pipelines.lib.plan import columns

PLAN_FILE = "demo_plan_ILLUSTRATIVE.csv"
RESPONSIBLE = "Secretaría técnica (ilustrativo / illustrative)"
COMMENT = ("ILUSTRATIVO: plan de demostración, no es el plan de la coalición / ILLUSTRATIVE: "
           "demo plan, not the coalition's plan")

# (objective, aim, texts es/en/fr, indicator, areas ("members", "region" or both), direction,
#  target as a function of the baseline)
OBJECTIVES = (
    ("P1", 3, ("Identificar a más víctimas y conocer mejor la trata",
               "Identify more victims and know trafficking better",
               "Identifier davantage de victimes et mieux connaître la traite"),
     "VIC_DETECTED", ("region", "members"), "monitor", lambda b: b),
    ("P2", 3, ("Asistir a cada víctima detectada",
               "Assist every detected victim",
               "Assister chaque victime détectée"),
     "VIC_ASSISTED_PER_VICTIM", ("region", "members"), "increase", lambda b: max(b * 1.25, 1.0)),
    ("P3", 3, ("Llevar a los tratantes ante la justicia",
               "Bring traffickers to justice",
               "Traduire les trafiquants en justice"),
     "TIP_CONVICTION_RATIO", ("region", "members"), "increase", lambda b: b * 1.3 if b else 1.0),
    ("P4", 1, ("Investigar y remitir juntos entre miembros",
               "Investigate and refer together between members",
               "Enquêter et orienter ensemble entre membres"),
     "JOINT_INVESTIGATIONS", ("region",), "increase", lambda b: b * 1.5 if b else 5.0),
    ("P5", 1, ("Informar a tiempo cada trimestre",
               "Report on time every quarter",
               "Transmettre à temps chaque trimestre"),
     "ON_TIME_RATE", ("region", "members"), "increase", lambda b: min(100.0, b + 15.0)),
    ("P6", 2, ("Estadísticas comparables entre los miembros",
               "Comparable statistics across members",
               "Des statistiques comparables entre les membres"),
     "REPORTING_RATE", ("region",), "maintain", lambda b: b),
    ("P7", 2, ("Alinear la ley y la política de cada miembro con los Protocolos de Palermo",
               "Align each member's law and policy with the Palermo Protocols",
               "Aligner la loi et la politique de chaque membre sur les Protocoles de Palerme"),
     "HARMONISATION_INDEX", ("region", "members"), "increase", lambda b: min(1.0, b + 0.2)),
)


def _round(value: float) -> float:
    return round(value, 4 if abs(value) < 10 else 1)


def demo_plan_rows(snapshot: Path, baseline_year: int, target_year: int) -> list[dict]:
    """The illustrative plan's rows: a target per objective and area whose baseline year is
    published (conf_status F) in ``snapshot``."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        members = [r[0] for r in con.execute(
            "select iso3 from marts.dim_country where member order by iso3").fetchall()]
        published = {(code, area): value for code, area, value in con.execute(
            "select indicator_code, ref_area, value from marts.indicator_values_published "
            "where freq = 'A' and time_period = ? and sex = '_T' and age = '_T' "
            "and exploitation_form = '_T' and conf_status = 'F' and value is not null",
            [str(baseline_year)]).fetchall()}
        # the harmonisation index (aim 2), where the demo's policy reports reach the baseline year
        if con.execute("select count(*) from information_schema.tables where table_schema = "
                       "'marts' and table_name = 'harmonisation_index'").fetchone()[0]:
            published |= {("HARMONISATION_INDEX", area): value for area, value in con.execute(
                "select ref_area, index_value from marts.harmonisation_index where year = ? "
                "and index_value is not null", [baseline_year]).fetchall()}
    finally:
        con.close()
    rows = []
    for objective, aim, texts, indicator, scope, direction, target_of in OBJECTIVES:
        areas = (["REG"] if "region" in scope else []) + (members if "members" in scope else [])
        for area in areas:
            baseline = published.get((indicator, area))
            if baseline is None:
                continue
            baseline = _round(float(baseline))
            target = _round(float(target_of(baseline)))
            if direction == "increase" and target <= baseline:
                continue  # already at the ceiling (100 % on time): nothing to plan
            row = dict.fromkeys(columns(), "")
            row.update(objective_id=objective, objective_es=texts[0], objective_en=texts[1],
                       objective_fr=texts[2], aim=str(aim), indicator=indicator, ref_area=area,
                       direction=direction, baseline_period=str(baseline_year),
                       baseline_value=f"{baseline:g}", target_period=str(target_year),
                       target_value=f"{target:g}", responsible=RESPONSIBLE, comment=COMMENT)
            rows.append(row)
    return rows


def write_demo_plan(snapshot: Path, out_dir: Path, baseline_year: int, target_year: int
                    ) -> Path | None:
    """The illustrative plan as a CSV in ``out_dir`` (None when no baseline is published)."""
    rows = demo_plan_rows(snapshot, baseline_year, target_year)
    if not rows:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PLAN_FILE
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
