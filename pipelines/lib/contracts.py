"""The data contracts in ``data_contracts/``: the single source of code lists, columns, data sets,
mandatory cells and the reporting cycle. The reader, the validation suite, the templates and the
demo generator all read them from here."""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from pipelines.lib.periods import Quarter, Year
from pipelines.settings import CONTRACTS_DIR

NOT_APPLICABLE = "_Z"
OWN_COUNTRY = "$OWN"
DIMENSIONS = (
    "sex",
    "age",
    "exploitation_form",
    "citizenship",
    "counterpart_area",
    "stage",
    "identification_channel",
    "unaccompanied",
)


@dataclass(frozen=True)
class Hierarchy:
    parent: str
    parts: tuple[str, ...]  # ("*",) means every code of the list but the parent and _Z
    rule: str  # "exact" | "at_most"


@dataclass(frozen=True)
class Codelist:
    name: str
    labels: dict[str, dict[str, str]]  # code -> {lang: label}
    hierarchy: tuple[Hierarchy, ...] = ()
    main_level: tuple[str, ...] | None = None

    @property
    def codes(self) -> list[str]:
        return list(self.labels)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: dict[str, str]
    dimensions: tuple[str, ...]
    age_codes: tuple[str, ...] | None = None
    # Items of an annual policy data set: the instrument and article checked (es/en/fr), what
    # the date column holds, whether a yes needs it, whether the item has a period that ends.
    instrument: dict[str, str] | None = None
    date_label: dict[str, str] | None = None
    date_required: bool = False
    until: bool = False


@dataclass(frozen=True)
class Dataset:
    code: str
    name: dict[str, str]
    contract_version: str
    owner: str
    indicators: dict[str, Indicator]
    mandatory: tuple[dict, ...]
    same_total: tuple[dict, ...] = field(default=())
    period_kind: str = "quarter"  # quarter | year
    # For a data set whose value is a status (POLICY_FRAMEWORK): code -> {score?, es, en, fr}.
    status: dict[str, dict] = field(default_factory=dict)

    @property
    def annual(self) -> bool:
        return self.period_kind == "year"

    @property
    def dimensions(self) -> list[str]:
        used = {d for ind in self.indicators.values() for d in ind.dimensions}
        return [d for d in DIMENSIONS if d in used]


@dataclass(frozen=True)
class Contracts:
    codelists: dict[str, Codelist]
    columns: dict[str, dict]
    datasets: dict[str, Dataset]
    countries: tuple[dict, ...]
    reporting: dict

    @property
    def members(self) -> list[str]:
        return [c["iso3"] for c in self.countries if c["member"]]

    def indicator_name(self, code: str, lang: str) -> str:
        """An indicator's (or policy item's) name in a language; its code when no contract has it."""
        for dataset in self.datasets.values():
            if code in dataset.indicators:
                name = dataset.indicators[code].name
                return name.get(lang) or name["en"]
        return code

    def period(self, dataset: str | None, text: str) -> Quarter | Year:
        """The period of a data set's unit (ValueError when it is not of the data set's kind)."""
        contract = self.datasets.get(dataset or "")
        return Year.parse(text) if contract and contract.annual else Quarter.parse(text)

    def due_days(self, dataset: str | None) -> int:
        contract = self.datasets.get(dataset or "")
        if contract and contract.annual:
            return self.reporting["annual"]["due_days_after_year_end"]
        return self.reporting["due_days_after_quarter_end"]

    def window_days(self, dataset: str | None) -> int:
        contract = self.datasets.get(dataset or "")
        if contract and contract.annual:
            return self.reporting["annual"]["window_days_after_year_end"]
        return self.reporting["window_days_after_quarter_end"]

    @property
    def annual_datasets(self) -> list[str]:
        return [code for code, dataset in self.datasets.items() if dataset.annual]

    def country(self, iso3: str) -> dict | None:
        return self._countries_by_iso3.get(iso3)

    @property
    def _countries_by_iso3(self) -> dict[str, dict]:
        return {c["iso3"]: c for c in self.countries}

    def codelist_for(self, column: str) -> Codelist | None:
        name = self.columns.get(column, {}).get("codelist")
        return self.codelists[name] if name else None

    def codes_for(self, column: str) -> list[str]:
        codelist = self.codelist_for(column)
        return codelist.codes if codelist else []

    def label(self, column: str, code: str, lang: str) -> str:
        """The label of a code in a language, for code-list columns and countries alike."""
        codelist = self.codelist_for(column)
        if codelist and code in codelist.labels:
            return codelist.labels[code].get(lang) or codelist.labels[code]["en"]
        country = self.country(code)
        if country:
            return country.get(f"name_{lang}") or country["name_en"]
        return code

    def mandatory_cells(self, dataset: str, country: str) -> list[dict[str, str]]:
        """Every mandatory cell of a data set for a country: indicator plus each dimension."""
        contract = self.datasets[dataset]
        cells: list[dict[str, str]] = []
        for spec in contract.mandatory:
            indicator = contract.indicators[spec["indicator"]]
            choices = []
            for dim in indicator.dimensions:
                wanted = spec["vary"].get(dim)
                if wanted is None:
                    choices.append(["_T"] if dim != "stage" else self.codes_for("stage"))
                elif wanted == "all":
                    choices.append(self._level_codes(dim, indicator, main=False))
                elif wanted == "main_level":
                    choices.append(self._level_codes(dim, indicator, main=True))
                else:
                    choices.append([country if c == OWN_COUNTRY else c for c in wanted])
            for combo in itertools.product(*choices):
                cell = {"indicator": indicator.code}
                cell.update({d: NOT_APPLICABLE for d in DIMENSIONS})
                cell.update(dict(zip(indicator.dimensions, combo, strict=True)))
                if cell not in cells:  # the grand total is shared by several breakdowns
                    cells.append(cell)
        return cells

    def offered_cells(self, dataset: str, country: str) -> list[dict[str, str]]:
        """The cells a template offers beyond the mandatory ones, to fill when the ministry has
        the figure: each indicator's total and its breakdown by each of its dimensions alone
        (the others total; by stage too where it has stages): sex, age, form, identification
        channel, citizenship of each member (and unknown), the other members as counterparts,
        and for children whether they were unaccompanied. Referrals and joint work
        are reported per counterpart member only. A ministry that fills the template as given
        keeps every series of the contract's main breakdowns; finer crosses it may add."""
        mandatory = self.mandatory_cells(dataset, country)
        cells: list[dict[str, str]] = []
        for indicator in self.datasets[dataset].indicators.values():
            for margin in self._margins(dataset, indicator, country):
                for stage in (self.codes_for("stage") if "stage" in indicator.dimensions
                              else [None]):
                    cell = {"indicator": indicator.code}
                    cell.update({d: NOT_APPLICABLE for d in DIMENSIONS})
                    cell.update({d: "_T" for d in indicator.dimensions})
                    cell.update(margin)
                    if stage:
                        cell["stage"] = stage
                    if cell not in mandatory and cell not in cells:
                        cells.append(cell)
        return cells

    def _margins(self, dataset: str, indicator: Indicator, country: str) -> list[dict[str, str]]:
        """The total ({}) and each one-dimension breakdown of an indicator, as dimension: code."""
        others = [m for m in self.members if m != country]
        if dataset == "COORDINATION":  # one row per counterpart member, no total
            return [{"counterpart_area": m} for m in others]
        margins: list[dict[str, str]] = [{}]
        for dim in indicator.dimensions:
            if dim == "stage":
                continue
            if dim == "citizenship":  # the regional flows: nationals of each member
                codes = [country, *others, "_U"]
            elif dim == "counterpart_area":
                codes = others
            elif dim == "unaccompanied":  # asked of children only
                margins += [{"age": "Y0T17", dim: c} for c in self.codes_for(dim) if c != "_T"]
                continue
            else:
                codes = [c for c in self._level_codes(dim, indicator, main=True) if c != "_T"]
            margins += [{dim: c} for c in codes]
        return margins

    def _level_codes(self, dim: str, indicator: Indicator, *, main: bool) -> list[str]:
        codelist = self.codelist_for(dim)
        if dim == "age" and indicator.age_codes:
            return list(indicator.age_codes)
        if main and codelist.main_level:
            return list(codelist.main_level)
        return codelist.codes


def _read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def load_contracts(directory: Path = CONTRACTS_DIR) -> Contracts:
    shared = _read_yaml(directory / "codelists.yaml")
    with (directory / "countries.csv").open(encoding="utf-8") as f:
        countries = tuple(
            {**row, "member": row["member"] == "True", "observer": row["observer"] == "True"}
            for row in csv.DictReader(f)
        )
    codelists = {}
    for name, spec in shared["codelists"].items():
        labels = dict(spec["codes"])
        if spec.get("countries"):
            for country in countries:
                labels[country["iso3"]] = {
                    lang: country[f"name_{lang}"] for lang in ("es", "en", "fr")
                }
        codelists[name] = Codelist(
            name=name,
            labels=labels,
            hierarchy=tuple(
                Hierarchy(h["parent"], tuple(h["parts"]), h["rule"])
                for h in spec.get("hierarchy", [])
            ),
            main_level=tuple(spec["main_level"]) if spec.get("main_level") else None,
        )
    datasets = {}
    for path in sorted(directory.glob("*.yaml")):
        spec = _read_yaml(path)
        if "dataset" not in spec:
            continue
        indicators = {
            code: Indicator(
                code=code,
                name=ind["name"],
                dimensions=tuple(ind.get("dimensions") or ()),
                age_codes=tuple(ind["age_codes"]) if ind.get("age_codes") else None,
                instrument=ind.get("instrument"),
                date_label=ind.get("date"),
                date_required=bool(ind.get("date_required")),
                until=bool(ind.get("until")),
            )
            for code, ind in spec["indicators"].items()
        }
        if spec.get("period") == "year":
            indicators.update(_regional_instruments(directory))
        mandatory = spec.get("mandatory") or ()
        if mandatory == "all":
            mandatory = [{"indicator": code, "vary": {}} for code in indicators]
        datasets[spec["dataset"]] = Dataset(
            code=spec["dataset"],
            name=spec["name"],
            contract_version=spec["contract_version"],
            owner=spec["owner"],
            indicators=indicators,
            mandatory=tuple(mandatory),
            same_total=tuple(spec.get("same_total") or ()),
            period_kind=spec.get("period", "quarter"),
            status=dict(spec.get("status") or {}),
        )
    return Contracts(
        codelists=codelists,
        columns=shared["columns"],
        datasets=datasets,
        countries=countries,
        reporting=_read_yaml(directory / "reporting.yaml"),
    )


REGIONAL_INSTRUMENT_PREFIX = "RI_"


def _regional_instruments(directory: Path) -> dict[str, Indicator]:
    """One policy item per regional instrument of the coalition ("adheres to ..."), from the list
    the secretariat keeps in ``regional_instruments.csv``."""
    path = directory / "regional_instruments.csv"
    if not path.exists():
        return {}
    adheres = {"es": "Adhesión: {}", "en": "Adherence: {}", "fr": "Adhésion : {}"}
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        f"{REGIONAL_INSTRUMENT_PREFIX}{row['code']}": Indicator(
            code=f"{REGIONAL_INSTRUMENT_PREFIX}{row['code']}",
            name={lang: adheres[lang].format(row[f"name_{lang}"]) for lang in adheres},
            dimensions=(),
            instrument={lang: row[f"name_{lang}"] for lang in adheres},
            date_label={"es": "fecha de adhesión", "en": "date of adherence",
                        "fr": "date d'adhésion"},
        )
        for row in rows
    }
