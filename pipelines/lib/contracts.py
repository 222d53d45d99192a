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


@dataclass(frozen=True)
class Dataset:
    code: str
    name: dict[str, str]
    contract_version: str
    owner: str
    indicators: dict[str, Indicator]
    mandatory: tuple[dict, ...]
    same_total: tuple[dict, ...] = field(default=())

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
        the figure: each indicator's total (by stage where it has stages) that is not mandatory,
        and for counterpart breakdowns one row per other member (referrals and joint work are
        reported per counterpart)."""
        mandatory = self.mandatory_cells(dataset, country)
        cells: list[dict[str, str]] = []
        for indicator in self.datasets[dataset].indicators.values():
            choices = []
            for dim in indicator.dimensions:
                if dim == "stage":
                    choices.append(self.codes_for("stage"))
                elif dim == "counterpart_area" and dataset == "COORDINATION":
                    choices.append([m for m in self.members if m != country])
                else:
                    choices.append(["_T"])
            for combo in itertools.product(*choices):
                cell = {"indicator": indicator.code}
                cell.update({d: NOT_APPLICABLE for d in DIMENSIONS})
                cell.update(dict(zip(indicator.dimensions, combo, strict=True)))
                if cell not in mandatory and cell not in cells:
                    cells.append(cell)
        return cells

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
        datasets[spec["dataset"]] = Dataset(
            code=spec["dataset"],
            name=spec["name"],
            contract_version=spec["contract_version"],
            owner=spec["owner"],
            indicators={
                code: Indicator(
                    code=code,
                    name=ind["name"],
                    dimensions=tuple(ind["dimensions"]),
                    age_codes=tuple(ind["age_codes"]) if ind.get("age_codes") else None,
                )
                for code, ind in spec["indicators"].items()
            },
            mandatory=tuple(spec.get("mandatory") or ()),
            same_total=tuple(spec.get("same_total") or ()),
        )
    return Contracts(
        codelists=codelists,
        columns=shared["columns"],
        datasets=datasets,
        countries=countries,
        reporting=_read_yaml(directory / "reporting.yaml"),
    )
