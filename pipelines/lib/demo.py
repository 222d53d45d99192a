"""Deterministic demo submissions: every member, every quarter, all five data sets.

``generate_demo(out_dir, today)`` writes one file per member × quarter from the first quarter of
the collection (``reporting.yaml``: 2019-Q1) to the last quarter complete before ``today``, plus a
few scenario files, and ``manifest.csv`` (``file,received_on,note``) ordered by ``received_on``
then file name, which is the order to load them in. Same ``out_dir`` contents for the same
``today``: every random draw comes from a ``random.Random`` seeded with a text such as
``"GTM|2024-Q2|victims"``, and nothing else depends on the clock.

Calibration (magnitudes of ``VIC_DETECTED``, ``TIP_PERSONS``)
------------------------------------------------------------------------------------------
From UNODC's Global Report data (``reference/unodc/glotip_coalition_2003_2020.csv``, the
dataUNODC ``data_glotip.xlsx`` export of 14/04/2025; see that folder's README), computed at
generation time by ``load_calibration``:

* annual level = mean of the last three years with a value of "Detected trafficking victims",
  Dimension/Sex/Age "Total" (``<5`` read as 2.5, thousands commas removed; for a year listed twice
  the first row counts); the same for "Persons prosecuted" and "Persons convicted";
* female share = Female / Total and child share = "0 to 17 years" / Total over those years, sexual
  exploitation and forced labour shares from the "by form of exploitation" rows; a share resting on
  fewer than 30 victims falls back to the regional default (women and girls 75 %, children 35 %,
  sexual exploitation 55 %, forced labour 20 %), and shares are clipped to plausible ranges.

Values are rounded (levels to 0.1, shares to 0.01) so that ``BUILTIN_CALIBRATION``, the same
numbers written down from that file, gives byte-identical output when the file is absent:

====  =======  ==========  =========  ======  =====  ======  ======
iso3  victims  prosecuted  convicted  female  child  sexual  labour
====  =======  ==========  =========  ======  =====  ======  ======
BLZ      5.3         2.5        2.5    0.75   0.35    0.55    0.20
CRI     47.7        62.3        6.8    0.76   0.52    0.30    0.28
DOM    126.7        34.3       12.5    0.68   0.30    0.85    0.06
GTM    414.7       121.7       19.0    0.75   0.70    0.34    0.05
HND     71.7        65.0       27.7    0.76   0.43    0.53    0.10
MEX    841.7       365.7      125.7    0.62   0.32    0.58    0.15
NIC     28.8        14.8        7.2    0.77   0.27    0.30    0.40
SLV     36.0        10.3        4.8    0.73   0.54    0.58    0.19
====  =======  ==========  =========  ======  =====  ======  ======

Quarterly expected count = annual / 4 (victims at least 2 a quarter), times a mild per-country
trend (-2 % to +6 % a year) and a 2020-Q2/Q3 pandemic dip, then a Poisson draw. The remaining
profiles (citizenship mixes, smuggled-migrant levels, referral flows, identification channels,
sex of suspects) are illustrative regional values written in this module, not published figures.

Scenario extras (named in the manifest notes, present when their quarter is in range)
------------------------------------------------------------------------------------------
* NIC 2025-Q1 arrives 70 days after the quarter end (late; the due date is 45 days).
* GTM 2025-Q4 is resubmitted as ``GTM_2025-Q4_v2.xlsx`` (a few values corrected, still
  consistent), received after ``GTM_2025-Q4.xlsx``.
* HND 2024-Q3 is first sent as ``HND_2024-Q3.csv`` with the free-text citizenship "Hondureña" and a
  female total that does not add up: it must be rejected; ``HND_2024-Q3_v2.csv`` corrects it.
* Formats: XLSX for most members; HND and SLV send Windows-1252 CSV with ``;``; BLZ (English)
  UTF-8 CSV with ``,``; DOM switches to UTF-8-with-BOM CSV with ``;`` from 2025-Q1. A few comments
  carry Spanish accents. NIC reports ``VIC_ASSISTED`` as not collected (``L``) in 2019-2020.
* COORDINATION referrals are mirror-consistent (A's sent to B = B's received from A) except a few
  deliberate gaps (about 5 % of the flows).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines import settings
from pipelines.lib.contracts import DIMENSIONS, load_contracts
from pipelines.lib.demo_policy import policy_rows, policy_years
from pipelines.lib.periods import Quarter, Year, quarter_range
from pipelines.lib.template import layout_row, write_csv, write_xlsx

DEFAULT_GLOTIP_PATH = (
    Path(settings.REPO_ROOT) / "reference" / "unodc" / "glotip_coalition_2003_2020.csv"
)
MANIFEST_NAME = "manifest.csv"


# --------------------------------------------------------------------------------------------
# Calibration


@dataclass(frozen=True)
class Calibration:
    victims: float  # detected victims a year
    prosecuted: float  # persons prosecuted a year
    convicted: float  # persons convicted a year
    female_share: float
    child_share: float
    sexual_share: float
    labour_share: float


DEFAULT_SHARES = {
    "female_share": 0.75,
    "child_share": 0.35,
    "sexual_share": 0.55,
    "labour_share": 0.20,
}
_SHARE_RANGES = {
    "female_share": (0.5, 0.9),
    "child_share": (0.1, 0.7),
    "sexual_share": (0.3, 0.85),
    "labour_share": (0.05, 0.4),
}
_MIN_BASE = 30  # victims behind a share, else the default
_YEARS = 3

# Written down from load_calibration(DEFAULT_GLOTIP_PATH); used when the file is absent.
BUILTIN_CALIBRATION: dict[str, Calibration] = {
    "BLZ": Calibration(5.3, 2.5, 2.5, 0.75, 0.35, 0.55, 0.20),
    "CRI": Calibration(47.7, 62.3, 6.8, 0.76, 0.52, 0.30, 0.28),
    "DOM": Calibration(126.7, 34.3, 12.5, 0.68, 0.30, 0.85, 0.06),
    "GTM": Calibration(414.7, 121.7, 19.0, 0.75, 0.70, 0.34, 0.05),
    "HND": Calibration(71.7, 65.0, 27.7, 0.76, 0.43, 0.53, 0.10),
    "MEX": Calibration(841.7, 365.7, 125.7, 0.62, 0.32, 0.58, 0.15),
    "NIC": Calibration(28.8, 14.8, 7.2, 0.77, 0.27, 0.30, 0.40),
    "SLV": Calibration(36.0, 10.3, 4.8, 0.73, 0.54, 0.58, 0.19),
}
_FALLBACK_LEVEL = Calibration(20.0, 8.0, 3.0, **DEFAULT_SHARES)


def _glotip_number(text: str | None) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("<"):
        return 2.5  # UNODC publishes 1-4 as "<5"
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def load_calibration(path: Path | str = DEFAULT_GLOTIP_PATH) -> dict[str, Calibration]:
    """Calibration per member from the UNODC file; ``BUILTIN_CALIBRATION`` if it is absent."""
    path = Path(path)
    if not path.exists():
        return dict(BUILTIN_CALIBRATION)
    totals: dict[tuple, float] = {}  # (iso, indicator, sex, age, year) -> first value
    forms: dict[tuple, float] = {}  # (iso, category, year) -> sum over rows
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            value = _glotip_number(row["txtVALUE"])
            if value is None:
                continue
            year = int(row["Year"])
            if row["Dimension"] == "Total":
                key = (row["Iso3_code"], row["Indicator"], row["Sex"], row["Age"], year)
                totals.setdefault(key, value)
            elif (
                row["Dimension"] == "by form of exploitation"
                and row["Indicator"] == "Detected trafficking victims"
                and row["Sex"] == "Total"
                and row["Age"] == "Total"
            ):
                key = (row["Iso3_code"], row["Category"], year)
                forms[key] = forms.get(key, 0.0) + value

    def series(iso: str, indicator: str, sex: str = "Total", age: str = "Total") -> dict:
        return {k[4]: v for k, v in totals.items() if k[:4] == (iso, indicator, sex, age)}

    def level(iso: str, indicator: str) -> tuple[float | None, list[int]]:
        values = series(iso, indicator)
        years = sorted(values)[-_YEARS:]
        if not years:
            return None, []
        return round(sum(values[y] for y in years) / len(years), 1), years

    def share(name: str, numerator: dict, base: dict, years: list[int]) -> float:
        used = [y for y in years if y in numerator and y in base]
        denominator = sum(base[y] for y in used)
        if denominator < _MIN_BASE:
            return DEFAULT_SHARES[name]
        low, high = _SHARE_RANGES[name]
        return round(min(high, max(low, sum(numerator[y] for y in used) / denominator)), 2)

    calibration = {}
    for iso in load_contracts().members:
        victims, years = level(iso, "Detected trafficking victims")
        if victims is None:
            calibration[iso] = BUILTIN_CALIBRATION.get(iso, _FALLBACK_LEVEL)
            continue
        prosecuted, _ = level(iso, "Persons prosecuted")
        convicted, _ = level(iso, "Persons convicted")
        base = series(iso, "Detected trafficking victims")
        calibration[iso] = Calibration(
            victims=victims,
            prosecuted=prosecuted if prosecuted is not None else round(0.4 * victims, 1),
            convicted=convicted if convicted is not None else round(0.12 * victims, 1),
            female_share=share(
                "female_share", series(iso, "Detected trafficking victims", "Female"), base, years
            ),
            child_share=share(
                "child_share",
                series(iso, "Detected trafficking victims", "Total", "0 to 17 years"),
                base,
                years,
            ),
            sexual_share=share(
                "sexual_share",
                {y: v for (i, c, y), v in forms.items() if i == iso and c == "Sexual exploitation"},
                base,
                years,
            ),
            labour_share=share(
                "labour_share",
                {y: v for (i, c, y), v in forms.items() if i == iso and c == "Forced labour"},
                base,
                years,
            ),
        )
    return calibration


# --------------------------------------------------------------------------------------------
# Illustrative profiles (not published figures)

# Citizenship of detected victims: own nationals, a few neighbours, unknown.
CITIZENSHIP_PROFILE: dict[str, dict[str, float]] = {
    "BLZ": {"$OWN": 0.35, "HND": 0.30, "GTM": 0.17, "SLV": 0.12, "_U": 0.06},
    "CRI": {"$OWN": 0.58, "NIC": 0.25, "VEN": 0.05, "COL": 0.04, "DOM": 0.02, "_U": 0.06},
    "DOM": {"$OWN": 0.74, "VEN": 0.15, "COL": 0.04, "HTI": 0.05, "_U": 0.02},
    "GTM": {
        "$OWN": 0.84,
        "HND": 0.04,
        "SLV": 0.03,
        "NIC": 0.02,
        "MEX": 0.02,
        "VEN": 0.01,
        "_U": 0.04,
    },
    "HND": {"$OWN": 0.92, "GTM": 0.02, "NIC": 0.02, "_U": 0.04},
    "MEX": {
        "$OWN": 0.80,
        "HND": 0.04,
        "GTM": 0.03,
        "SLV": 0.02,
        "VEN": 0.05,
        "COL": 0.03,
        "_U": 0.03,
    },
    "NIC": {"$OWN": 0.90, "HND": 0.03, "_U": 0.07},
    "SLV": {"$OWN": 0.66, "HND": 0.06, "GTM": 0.05, "NIC": 0.02, "_U": 0.21},
}
# Nationals returned from abroad (VIC_REPATRIATED), expected a quarter by country returned from.
REPATRIATION_PROFILE: dict[str, dict[str, float]] = {
    "BLZ": {},
    "CRI": {"PAN": 0.3},
    "DOM": {"ESP": 0.5, "ARG": 0.3},
    "GTM": {"MEX": 2.5, "USA": 1.0, "SLV": 0.3},
    "HND": {"GTM": 1.5, "MEX": 2.0, "BLZ": 0.6},
    "MEX": {"USA": 1.2},
    "NIC": {"CRI": 1.5, "SLV": 0.3},
    "SLV": {"GTM": 1.0, "MEX": 1.0},
}
# Smuggled migrants detected a quarter, and their citizenships.
SOM_LEVEL = {
    "BLZ": 30,
    "CRI": 300,
    "DOM": 200,
    "GTM": 600,
    "HND": 250,
    "MEX": 2500,
    "NIC": 150,
    "SLV": 120,
}
SOM_ORIGINS = {
    "VEN": 0.22,
    "HND": 0.16,
    "GTM": 0.12,
    "HTI": 0.10,
    "CUB": 0.09,
    "SLV": 0.07,
    "NIC": 0.06,
    "ECU": 0.06,
    "COL": 0.05,
    "_U": 0.07,
}
# Identification channels (optional breakdown, sent by these members only).
CHANNEL_SHARES = {
    "POL": 0.30,
    "PROS": 0.15,
    "LAB": 0.05,
    "MIG": 0.15,
    "SOC": 0.08,
    "NGO": 0.08,
    "HOT": 0.06,
    "SELF": 0.05,
    "CONS": 0.03,
    "OTH": 0.02,
    "_U": 0.03,
}
CHANNEL_REPORTERS = ("CRI", "DOM", "GTM", "MEX", "SLV")
# Other forms of exploitation share the rest after SEX and FLAB.
OTHER_FORMS = {
    "MIXED": 0.22,
    "FCRIM": 0.10,
    "BEG": 0.10,
    "FMAR": 0.08,
    "ADOPT": 0.03,
    "ORG": 0.01,
    "OTH": 0.14,
    "_U": 0.32,
}
# Referrals a quarter: sender -> receiver (the receiver is usually the victim's own country).
REFERRAL_FLOWS = {
    ("MEX", "GTM"): 6.0,
    ("MEX", "HND"): 5.0,
    ("MEX", "SLV"): 3.0,
    ("MEX", "NIC"): 1.0,
    ("MEX", "DOM"): 0.3,
    ("GTM", "HND"): 3.0,
    ("GTM", "SLV"): 2.0,
    ("GTM", "MEX"): 1.5,
    ("GTM", "NIC"): 0.8,
    ("CRI", "NIC"): 2.5,
    ("CRI", "DOM"): 0.4,
    ("BLZ", "GTM"): 0.8,
    ("BLZ", "HND"): 1.0,
    ("SLV", "HND"): 1.0,
    ("SLV", "GTM"): 0.8,
    ("HND", "GTM"): 0.5,
    ("NIC", "CRI"): 0.6,
    ("DOM", "CRI"): 0.3,
}
JOINT_INVESTIGATIONS = {
    ("GTM", "MEX"): 0.5,
    ("GTM", "HND"): 0.4,
    ("GTM", "SLV"): 0.3,
    ("CRI", "NIC"): 0.2,
    ("HND", "SLV"): 0.2,
    ("BLZ", "GTM"): 0.15,
    ("CRI", "DOM"): 0.1,
}
MIRROR_GAP_PROBABILITY = 0.05
COMMENTS_ES = (
    "Cifras preliminares de la Fiscalía",
    "Datos validados por la Comisión Nacional contra la Trata",
    "Incluye víctimas identificadas en operativos conjuntos con Migración",
    "Información consolidada por la Secretaría Técnica",
    "Cifras sujetas a revisión por el Ministerio Público",
)
COMMENTS_EN = (
    "Preliminary figures from the Police Department",
    "Figures validated by the Anti-Trafficking in Persons Council",
)


# --------------------------------------------------------------------------------------------
# Random helpers (all draws come from an explicitly seeded random.Random)


def _rng(*parts: object) -> random.Random:
    return random.Random("|".join(str(p) for p in parts))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def _split(rng: random.Random, n: int, weights: dict) -> dict:
    """Multinomial split of n over the keys of weights (every key present, zeros included)."""
    counts = dict.fromkeys(weights, 0)
    if n > 0:
        keys = list(weights)
        counts.update(Counter(rng.choices(keys, weights=[weights[k] for k in keys], k=n)))
    return counts


def _quarter_index(quarter: Quarter) -> int:
    first = Quarter.parse(load_contracts().reporting["first_period"])
    return (quarter.year - first.year) * 4 + quarter.quarter - first.quarter


def _trend(iso: str, quarter: Quarter) -> float:
    slope = _rng("trend", iso).uniform(-0.02, 0.06)
    factor = (1 + slope) ** (_quarter_index(quarter) / 4)
    dip = {Quarter(2020, 2): 0.6, Quarter(2020, 3): 0.8}.get(quarter, 1.0)
    return factor * dip


# --------------------------------------------------------------------------------------------
# Data sets


SEXES = ("F", "M", "X", "_U")
AGES = ("Y0T17", "Y_GE18", "_U")


class _Rows:
    """The rows of one data set; a cell given twice must carry the same value."""

    def __init__(self, dataset: str, iso: str, quarter: Quarter):
        self.dataset, self.iso, self.period = dataset, iso, str(quarter)
        self._rows: dict[tuple, dict] = {}

    def add(
        self,
        indicator: str,
        value: int | None,
        *,
        obs_status: str = "",
        comment: str = "",
        **dims: str,
    ) -> None:
        row = layout_row(
            self.dataset,
            self.iso,
            self.period,
            indicator,
            value,
            obs_status=obs_status,
            comment=comment,
            **dims,
        )
        key = (indicator, *(row[d] for d in DIMENSIONS))
        if key in self._rows:
            if self._rows[key]["value"] != value:
                raise AssertionError(f"cell {key} given twice with different values")
            return
        self._rows[key] = row

    def list(self) -> list[dict]:
        return list(self._rows.values())


def _sex_age_rows(
    rows: _Rows, indicator: str, table: dict[tuple[str, str], int], **other: str
) -> None:
    """Every sex × age cell of a consistent 2-D table, margins and grand total included."""
    for sex in (*SEXES, "_T"):
        for age in (*AGES, "_T"):
            value = sum(
                v
                for (s, a), v in table.items()
                if (sex == "_T" or s == sex) and (age == "_T" or a == age)
            )
            rows.add(indicator, value, sex=sex, age=age, **other)


def _sex_age_table(
    rng: random.Random,
    n: int,
    female: float,
    child: float,
    *,
    other_sex: float = 0.005,
    unknown_sex: float = 0.02,
    unknown_age: float = 0.03,
) -> dict[tuple[str, str], int]:
    known = 1 - other_sex - unknown_sex
    sex_p = {"F": female * known, "M": (1 - female) * known, "X": other_sex, "_U": unknown_sex}
    weights = {}
    for sex, ps in sex_p.items():
        age_u = 0.5 if sex == "_U" else unknown_age
        for age, pa in (
            ("Y0T17", child * (1 - age_u)),
            ("Y_GE18", (1 - child) * (1 - age_u)),
            ("_U", age_u),
        ):
            weights[(sex, age)] = ps * pa
    return _split(rng, n, weights)


def _tip_victims(iso: str, quarter: Quarter, cal: Calibration) -> list[dict]:
    rng = _rng(iso, quarter, "victims")
    rows = _Rows("TIP_VICTIMS", iso, quarter)
    n = _poisson(rng, max(cal.victims / 4, 2.0) * _trend(iso, quarter))
    table = _sex_age_table(rng, n, cal.female_share, cal.child_share)
    totals = dict(exploitation_form="_T", citizenship="_T", identification_channel="_T")
    _sex_age_rows(rows, "VIC_DETECTED", table, **totals)

    rest = max(0.0, 1 - cal.sexual_share - cal.labour_share)
    form_weights = {"SEX": cal.sexual_share, "FLAB": cal.labour_share}
    form_weights.update({k: v * rest for k, v in OTHER_FORMS.items()})
    ordered = [c for c in load_contracts().codes_for("exploitation_form") if c != "_T"]
    forms = _split(rng, n, {c: form_weights[c] for c in ordered})
    for form, value in forms.items():
        rows.add(
            "VIC_DETECTED",
            value,
            sex="_T",
            age="_T",
            exploitation_form=form,
            citizenship="_T",
            identification_channel="_T",
        )

    profile = {(iso if k == "$OWN" else k): v for k, v in CITIZENSHIP_PROFILE[iso].items()}
    citizenship = _split(rng, n, profile)
    for code, value in citizenship.items():
        if value or code in (iso, "_U"):  # own nationals and unknown are mandatory
            rows.add(
                "VIC_DETECTED",
                value,
                sex="_T",
                age="_T",
                exploitation_form="_T",
                citizenship=code,
                identification_channel="_T",
            )

    if iso in CHANNEL_REPORTERS:
        for channel, value in _split(rng, n, CHANNEL_SHARES).items():
            rows.add(
                "VIC_DETECTED",
                value,
                sex="_T",
                age="_T",
                exploitation_form="_T",
                citizenship="_T",
                identification_channel=channel,
            )

    if iso == "NIC" and quarter.year <= 2020:
        rows.add(
            "VIC_ASSISTED",
            None,
            obs_status="L",
            sex="_T",
            age="_T",
            exploitation_form="_T",
            citizenship="_T",
            identification_channel="_T",
        )
    else:
        assisted = {
            s: _binomial(rng, sum(v for (sx, _), v in table.items() if sx == s), 0.8) for s in SEXES
        }
        for sex, value in [*assisted.items(), ("_T", sum(assisted.values()))]:
            rows.add(
                "VIC_ASSISTED",
                value,
                sex=sex,
                age="_T",
                exploitation_form="_T",
                citizenship="_T",
                identification_channel="_T",
            )

    repatriation = REPATRIATION_PROFILE.get(iso) or {}
    if repatriation:
        returned = {c: _poisson(rng, m) for c, m in repatriation.items()}
        for code, value in returned.items():
            if value:
                rows.add("VIC_REPATRIATED", value, sex="_T", age="_T", counterpart_area=code)
        rows.add(
            "VIC_REPATRIATED", sum(returned.values()), sex="_T", age="_T", counterpart_area="_T"
        )
    return rows.list()


def _stage_sex(
    rng: random.Random, convicted: int, prosecuted: int, suspected: int, sex_weights: dict
) -> dict[str, dict[str, int]]:
    """Stage × sex counts with CONV ≤ PROS ≤ SUSP for every sex."""
    conv = _split(rng, convicted, sex_weights)
    pros_extra = _split(rng, max(0, prosecuted - convicted), sex_weights)
    susp_extra = _split(rng, max(0, suspected - max(prosecuted, convicted)), sex_weights)
    pros = {s: conv[s] + pros_extra[s] for s in sex_weights}
    susp = {s: pros[s] + susp_extra[s] for s in sex_weights}
    return {"SUSP": susp, "PROS": pros, "CONV": conv}


def _stage_rows(
    rows: _Rows, indicator: str, stages: dict[str, dict[str, int]], **other: str
) -> None:
    for stage in ("SUSP", "PROS", "CONV"):
        for sex in SEXES:
            rows.add(indicator, stages[stage][sex], stage=stage, sex=sex, **other)
        rows.add(indicator, sum(stages[stage].values()), stage=stage, sex="_T", **other)


OFFENDER_SEX = {"F": 0.27, "M": 0.70, "X": 0.005, "_U": 0.025}


def _tip_justice(iso: str, quarter: Quarter, cal: Calibration) -> list[dict]:
    rng = _rng(iso, quarter, "tip_justice")
    rows = _Rows("TIP_JUSTICE", iso, quarter)
    trend = _trend(iso, quarter)
    prosecuted = _poisson(rng, cal.prosecuted / 4 * trend)
    convicted = min(prosecuted, _poisson(rng, cal.convicted / 4 * trend))
    suspected = prosecuted + _poisson(rng, 0.5 * cal.prosecuted / 4 * trend + 0.5)
    stages = _stage_sex(rng, convicted, prosecuted, suspected, OFFENDER_SEX)
    _stage_rows(rows, "TIP_PERSONS", stages, age="_T", citizenship="_T")
    total_conv = sum(stages["CONV"].values())
    by_cit = _split(rng, total_conv, {iso: 0.85, "_FOREIGN": 0.1, "_U": 0.05})
    foreign = next(c for c in CITIZENSHIP_PROFILE[iso] if c not in ("$OWN", "_U"))
    for code, value in ((iso, by_cit[iso]), (foreign, by_cit["_FOREIGN"]), ("_U", by_cit["_U"])):
        if value or code in (iso, "_U"):
            rows.add("TIP_PERSONS", value, stage="CONV", sex="_T", age="_T", citizenship=code)
    cases = round(sum(stages["SUSP"].values()) * rng.uniform(0.4, 0.8))
    rows.add("TIP_CASES", max(cases, 1 if suspected else 0))
    return rows.list()


def _som_migrants(iso: str, quarter: Quarter) -> list[dict]:
    rng = _rng(iso, quarter, "som_migrants")
    rows = _Rows("SOM_MIGRANTS", iso, quarter)
    n = _poisson(rng, SOM_LEVEL.get(iso, 50) * _trend(iso, quarter))
    table = _sex_age_table(rng, n, 0.36, 0.22, other_sex=0.002, unknown_sex=0.018)
    _sex_age_rows(rows, "SOM_DETECTED", table, citizenship="_T", unaccompanied="_T")
    children = sum(v for (_, a), v in table.items() if a == "Y0T17")
    for code, value in _split(rng, children, {"Y": 0.3, "N": 0.65, "_U": 0.05}).items():
        rows.add("SOM_DETECTED", value, sex="_T", age="Y0T17", citizenship="_T", unaccompanied=code)
    origins = {k: v for k, v in SOM_ORIGINS.items() if k != iso}
    for code, value in _split(rng, n, origins).items():
        if value or code == "_U":
            rows.add(
                "SOM_DETECTED", value, sex="_T", age="_T", citizenship=code, unaccompanied="_T"
            )
    victims = {
        s: _binomial(rng, sum(v for (sx, _), v in table.items() if sx == s), 0.02) for s in SEXES
    }
    for sex, value in [*victims.items(), ("_T", sum(victims.values()))]:
        rows.add("SOM_TIP_VICTIMS", value, sex=sex, age="_T", citizenship="_T", unaccompanied="_T")
    rows.add("SOM_DEATHS", _poisson(rng, n * 0.002), sex="_T", age="_T", citizenship="_T")
    return rows.list()


def _som_justice(iso: str, quarter: Quarter) -> list[dict]:
    rng = _rng(iso, quarter, "som_justice")
    rows = _Rows("SOM_JUSTICE", iso, quarter)
    level = SOM_LEVEL.get(iso, 50) * _trend(iso, quarter)
    prosecuted = _poisson(rng, level * 0.03 + 0.5)
    convicted = _binomial(rng, prosecuted, 0.4)
    suspected = prosecuted + _poisson(rng, prosecuted * 0.8 + 1)
    stages = _stage_sex(
        rng, convicted, prosecuted, suspected, {"F": 0.12, "M": 0.85, "X": 0.005, "_U": 0.025}
    )
    _stage_rows(rows, "SOM_PERSONS", stages, citizenship="_T")
    rows.add("SOM_CASES", round(sum(stages["SUSP"].values()) * rng.uniform(0.5, 0.9)))
    return rows.list()


@cache
def _coordination_quarter(quarter: Quarter) -> dict[str, list[tuple[str, str, int]]]:
    """Per member: (indicator, counterpart, value) rows of a quarter, mirror-consistent."""
    rng = _rng("coordination", quarter)
    members = load_contracts().members
    out: dict[str, list[tuple[str, str, int]]] = {iso: [] for iso in members}
    for (sender, receiver), mean in REFERRAL_FLOWS.items():
        if sender not in out or receiver not in out:
            continue
        sent = _poisson(rng, mean * _trend(sender, quarter))
        received = sent
        if rng.random() < MIRROR_GAP_PROBABILITY:  # a deliberate mirror gap
            received = max(0, sent + rng.choice((-3, -2, -1, 1, 2, 4)))
        if sent:
            out[sender].append(("REF_SENT", receiver, sent))
        if received:
            out[receiver].append(("REF_RECEIVED", sender, received))
    for (a, b), mean in JOINT_INVESTIGATIONS.items():
        if a not in out or b not in out:
            continue
        joint = _poisson(rng, mean)
        if joint:
            out[a].append(("JOINT_INVESTIGATIONS", b, joint))
            out[b].append(("JOINT_INVESTIGATIONS", a, joint))
    for iso, entries in out.items():
        if not entries:  # no activity: one explicit zero so the data set is not empty
            partner = next(r for s, r in REFERRAL_FLOWS if s == iso)
            entries.append(("REF_SENT", partner, 0))
        order = {"REF_SENT": 0, "REF_RECEIVED": 1, "JOINT_INVESTIGATIONS": 2}
        entries.sort(key=lambda e: (order[e[0]], e[1]))
    return out


def _coordination(iso: str, quarter: Quarter) -> list[dict]:
    rows = _Rows("COORDINATION", iso, quarter)
    for indicator, counterpart, value in _coordination_quarter(quarter)[iso]:
        rows.add(indicator, value, counterpart_area=counterpart)
    return rows.list()


def demo_rows(
    iso: str, quarter: Quarter, calibration: dict[str, Calibration] | None = None
) -> dict[str, list[dict]]:
    """The five data sets of one member × quarter as layout rows (comments included)."""
    calibration = calibration or load_calibration()
    cal = calibration.get(iso) or BUILTIN_CALIBRATION.get(iso, _FALLBACK_LEVEL)
    data = {
        "TIP_VICTIMS": _tip_victims(iso, quarter, cal),
        "TIP_JUSTICE": _tip_justice(iso, quarter, cal),
        "SOM_MIGRANTS": _som_migrants(iso, quarter),
        "SOM_JUSTICE": _som_justice(iso, quarter),
        "COORDINATION": _coordination(iso, quarter),
    }
    rng = _rng(iso, quarter, "comments")
    comments = COMMENTS_EN if iso == "BLZ" else COMMENTS_ES
    # the first file of a member, and of each new file format, always carries a comment
    first = _quarter_index(quarter) == 0 or file_format(iso, quarter) != file_format(
        iso, quarter.previous()
    )
    for dataset in ("TIP_VICTIMS", "TIP_JUSTICE"):
        if first or rng.random() < 0.2:
            target = next(
                (r for r in data[dataset] if r["sex"] == "_T" and r["age"] in ("_T", "_Z")),
                data[dataset][0],
            )
            target["comment"] = rng.choice(comments)
    expected = load_contracts().reporting["expected_datasets"]
    return {code: data[code] for code in expected if code in data}


# --------------------------------------------------------------------------------------------
# Files and scenario


@dataclass(frozen=True)
class DemoFile:
    path: Path
    received_on: dt.date
    note: str


@dataclass(frozen=True)
class _Format:
    ext: str  # "xlsx" | "csv"
    encoding: str = "utf-8"
    delimiter: str = ","
    bom: bool = False
    lang: str = "es"

    def describe(self) -> str:
        if self.ext == "xlsx":
            return "XLSX template"
        encoding = (
            "UTF-8 with BOM"
            if self.bom
            else ("Windows-1252" if self.encoding == "cp1252" else "UTF-8")
        )
        return f"CSV {encoding} '{self.delimiter}'"


def file_format(iso: str, quarter: Quarter) -> _Format:
    if iso in ("HND", "SLV"):
        return _Format("csv", encoding="cp1252", delimiter=";")
    if iso == "BLZ":
        return _Format("csv", lang="en")
    if iso == "DOM" and quarter >= Quarter(2025, 1):
        return _Format("csv", delimiter=";", bom=True)
    return _Format("xlsx")


def _write(path: Path, data: dict[str, list[dict]], fmt: _Format) -> None:
    if fmt.ext == "xlsx":
        write_xlsx(path, data, lang=fmt.lang)
    else:
        rows = [row for dataset_rows in data.values() for row in dataset_rows]
        write_csv(path, rows, encoding=fmt.encoding, delimiter=fmt.delimiter, bom=fmt.bom)


def _find(rows: list[dict], indicator: str, **dims: str) -> dict:
    for row in rows:
        if row["indicator"] == indicator and all(row[d] == v for d, v in dims.items()):
            return row
    raise KeyError((indicator, dims))


def _corrected_gtm(data: dict[str, list[dict]]) -> tuple[dict[str, list[dict]], str]:
    """GTM v2: forms reclassified, one more male convicted; returns the data and what changed."""
    data = {k: [dict(r) for r in rows] for k, rows in data.items()}
    victims = data["TIP_VICTIMS"]
    unknown = _find(victims, "VIC_DETECTED", sex="_T", age="_T", exploitation_form="_U")
    sexual = _find(victims, "VIC_DETECTED", sex="_T", age="_T", exploitation_form="SEX")
    moved = min(3, unknown["value"])
    if moved:
        unknown["value"] -= moved
        sexual["value"] += moved
        change = f"{moved} victims reclassified from unknown form to sexual exploitation"
    else:  # nothing unknown: move one from sexual to forced labour
        labour = _find(victims, "VIC_DETECTED", sex="_T", age="_T", exploitation_form="FLAB")
        sexual["value"] -= 1
        labour["value"] += 1
        change = "1 victim reclassified from sexual exploitation to forced labour"
    justice = data["TIP_JUSTICE"]
    for stage in ("SUSP", "PROS", "CONV"):
        for sex in ("M", "_T"):
            _find(justice, "TIP_PERSONS", stage=stage, sex=sex, age="_T", citizenship="_T")[
                "value"
            ] += 1
    _find(justice, "TIP_PERSONS", stage="CONV", sex="_T", age="_T", citizenship="GTM")["value"] += 1
    victims[0]["comment"] = "Versión corregida: reclasificación de formas de explotación"
    return data, f"{change}; one more male suspected, prosecuted and convicted (GTM citizen)"


def _rejected_hnd(data: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """HND first try: free-text citizenship and a female total that does not add up."""
    data = {k: [dict(r) for r in rows] for k, rows in data.items()}
    victims = data["TIP_VICTIMS"]
    _find(victims, "VIC_DETECTED", sex="_T", age="_T", exploitation_form="_T", citizenship="HND")[
        "citizenship"
    ] = "Hondureña"
    _find(victims, "VIC_DETECTED", sex="F", age="_T", exploitation_form="_T", citizenship="_T")[
        "value"
    ] += 2
    return data


def _write_manifest(out_dir: Path, files: list[DemoFile]) -> Path:
    path = out_dir / MANIFEST_NAME
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["file", "received_on", "note"])
        for item in files:
            writer.writerow([item.path.name, item.received_on.isoformat(), item.note])
    return path


LATE = ("NIC", Quarter(2025, 1), 70)
RESUBMITTED = ("GTM", Quarter(2025, 4), 15, 40)  # v1 and v2 received these days after the end
REJECTED = ("HND", Quarter(2024, 3), 20, 30)  # first try and correction


POLICY = "POLICY_FRAMEWORK"


def generate_demo(
    out_dir: Path, today: dt.date, glotip_path: Path | str = DEFAULT_GLOTIP_PATH
) -> list[DemoFile]:
    """Write the demo submissions and ``manifest.csv`` into out_dir; return them in load order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    contracts = load_contracts()
    calibration = load_calibration(glotip_path)
    due_days = int(contracts.reporting["due_days_after_quarter_end"])
    first = Quarter.parse(contracts.reporting["first_period"])
    quarters = quarter_range(first, Quarter.last_complete(today))
    files: list[DemoFile] = []

    def emit(name: str, data: dict, fmt: _Format, received: dt.date, note: str) -> None:
        path = out_dir / name
        _write(path, data, fmt)
        files.append(DemoFile(path, received, f"{note}; {fmt.describe()}"))

    for iso in contracts.members:
        for quarter in quarters:
            fmt = file_format(iso, quarter)
            data = demo_rows(iso, quarter, calibration)
            name = f"{iso}_{quarter}.{fmt.ext}"
            offset = _rng(iso, quarter, "received").randint(8, due_days)
            received = min(quarter.end + dt.timedelta(days=offset), today)
            note = "on time"
            if (iso, quarter) == LATE[:2] and quarter.end + dt.timedelta(days=LATE[2]) <= today:
                received = quarter.end + dt.timedelta(days=LATE[2])
                note = f"LATE: received {LATE[2]} days after the quarter end (due {due_days})"
            elif (iso, quarter) == RESUBMITTED[:2]:
                received = min(quarter.end + dt.timedelta(days=RESUBMITTED[2]), today)
                second = quarter.end + dt.timedelta(days=RESUBMITTED[3])
                if second <= today:
                    note = f"on time; superseded by {iso}_{quarter}_v2.{fmt.ext}"
                    corrected, change = _corrected_gtm(data)
                    emit(
                        f"{iso}_{quarter}_v2.{fmt.ext}",
                        corrected,
                        fmt,
                        second,
                        f"RESUBMISSION of {name}: {change}; still consistent",
                    )
            elif (iso, quarter) == REJECTED[:2]:
                received = min(quarter.end + dt.timedelta(days=REJECTED[2]), today)
                second = quarter.end + dt.timedelta(days=REJECTED[3])
                if second <= today:
                    emit(
                        f"{iso}_{quarter}_v2.{fmt.ext}",
                        data,
                        fmt,
                        second,
                        f"CORRECTION of the rejected {name}: passes validation",
                    )
                data = _rejected_hnd(data)
                note = (
                    "MUST BE REJECTED: free-text citizenship 'Hondureña' instead of HND "
                    "and female victims 2 above the sum of their age groups (V02, V05, V08)"
                )
            emit(name, data, fmt, received, note)

    for iso in contracts.members:
        for year in policy_years(Year(first.year), today):
            fmt = file_format(iso, Quarter(year.year, 4))
            offset = _rng(iso, year, "received").randint(10, contracts.due_days(POLICY))
            received = year.end + dt.timedelta(days=offset)
            if received <= today:
                emit(f"{iso}_{year}_{POLICY}.{fmt.ext}", {POLICY: policy_rows(iso, year, fmt.lang)}, fmt,
                     received, "ILLUSTRATIVE policy framework report (made up for the demo)")

    files.sort(key=lambda f: (f.received_on, f.path.name))
    _write_manifest(out_dir, files)
    return files


def read_manifest(out_dir: Path) -> list[DemoFile]:
    """The manifest written by ``generate_demo``, in load order."""
    out_dir = Path(out_dir)
    with (out_dir / MANIFEST_NAME).open(encoding="utf-8", newline="") as f:
        return [
            DemoFile(out_dir / row["file"], dt.date.fromisoformat(row["received_on"]), row["note"])
            for row in csv.DictReader(f)
        ]


__all__ = [
    "BUILTIN_CALIBRATION",
    "Calibration",
    "DEFAULT_GLOTIP_PATH",
    "DemoFile",
    "demo_rows",
    "file_format",
    "generate_demo",
    "load_calibration",
    "read_manifest",
]
