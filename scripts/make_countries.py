"""Regenerate data_contracts/countries.csv from pycountry (ISO 3166-1, with its es/fr names).

Run: uv run --with pycountry python scripts/make_countries.py
Membership and the Americas' M49 sub-regions are set below: membership is data, edit it here
and rerun, or edit the CSV directly.
"""

import csv
import gettext
from pathlib import Path

import pycountry

MEMBERS = {"BLZ", "CRI", "DOM", "SLV", "GTM", "HND", "MEX", "NIC"}
OBSERVERS = {"PAN"}
# UN M49 sub-regions of the Americas (Latin America and the Caribbean, Northern America).
SUBREGIONS = {
    "013": "BLZ CRI SLV GTM HND MEX NIC PAN",
    "029": "AIA ATG ABW BHS BRB BES VGB CYM CUB CUW DMA DOM GRD GLP HTI JAM MTQ MSR PRI BLM KNA "
    "LCA MAF VCT SXM TTO TCA VIR",
    "005": "ARG BOL BVT BRA CHL COL ECU FLK GUF GUY PRY PER SGS SUR URY VEN",
    "021": "BMU CAN GRL SPM USA",
}
SUBREGION_OF = {iso3: m49 for m49, codes in SUBREGIONS.items() for iso3 in codes.split()}


def main() -> None:
    es = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])
    fr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    out = Path(__file__).resolve().parents[1] / "data_contracts" / "countries.csv"
    rows = []
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        name = getattr(c, "common_name", None) or c.name
        rows.append(
            {
                "iso3": c.alpha_3,
                "iso2": c.alpha_2,
                "m49": c.numeric,
                "name_en": name,
                "name_es": es.gettext(c.name),
                "name_fr": fr.gettext(c.name),
                "member": c.alpha_3 in MEMBERS,
                "observer": c.alpha_3 in OBSERVERS,
                "m49_subregion": SUBREGION_OF.get(c.alpha_3, ""),
            }
        )
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} countries to {out}")


if __name__ == "__main__":
    main()
