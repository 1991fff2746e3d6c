"""The fleet manifest: one vendor pair and the filled Adoption Agreements of many plans.

    [fleet]
    source_bpd = "relius/bpd.pdf"          # the vendor pair, shared by every plan
    target_bpd = "ascensus/bpd.pdf"
    source_aa  = "relius/aa_blank.pdf"     # the source AA template (blank, or any plan's copy)
    target_aa  = "ascensus/aa.pdf"
    plans      = "plans/"                  # a folder (every .pdf and .json in it), or a list of files
    vision     = false                     # pages without a text layer: OCR (false) or the vision model

    [settings]                             # as in crosswalk.toml
    verifier = "local"

Paths are relative to the manifest. Each plan's name is its file name without the suffix; it
names the plan's output folder, so names must be unique.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

ROLES = ("source_bpd", "target_bpd", "source_aa", "target_aa")
PLAN_SUFFIXES = (".pdf", ".json")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# what the fleet writes at the top of OUT besides the plan folders
SUMMARY_NAMES = frozenset({"fleet_summary.json", "fleet_summary.csv", "fleet_summary.xlsx", "fleet.html"})


@dataclass(frozen=True)
class Plan:
    name: str
    path: Path


@dataclass(frozen=True)
class FleetManifest:
    documents: dict[str, Path]
    plans: tuple[Plan, ...]
    settings: dict
    vision: bool = False


def plan_name(path: Path) -> str:
    """A folder name for the plan: its file stem, with anything but letters, digits, '.', '_' and '-' as '_'
    (a stem that is one of the summary's names gets '-plan' after it)."""
    name = SAFE_NAME.sub("_", path.stem).strip("._") or "plan"
    return f"{name}-plan" if name.lower() in SUMMARY_NAMES else name


def list_plans(paths: list[Path], where: Path) -> tuple[Plan, ...]:
    """Plans from files and folders (a folder gives its .pdf and .json files, sorted); names checked unique."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in PLAN_SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(path, "plan file or folder not found")
    seen: dict[str, Path] = {}
    for f in files:
        name = plan_name(f)
        if name in seen:
            raise InputError(where, f"plans {seen[name].name!r} and {f.name!r} would share the output folder {name!r}")
        seen[name] = f
    if not seen:
        raise InputError(where, "no plans: give a folder holding filled AAs (.pdf or .json) or a list of files")
    return tuple(Plan(name, path) for name, path in seen.items())


def read_fleet_manifest(path: Path) -> FleetManifest:
    """The manifest, checked: the four documents present, at least one plan, plan names unique."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(path, f"cannot read fleet manifest: {exc}") from None
    fleet = data.get("fleet")
    if not isinstance(fleet, dict):
        raise InputError(path, "no [fleet] table (source_bpd, target_bpd, source_aa, target_aa, plans)")
    base = path.parent
    documents = {}
    for role in ROLES:
        if not isinstance(fleet.get(role), str):
            raise InputError(path, f"[fleet] needs {role} = \"FILE\"")
        documents[role] = base / fleet[role]
        if not documents[role].is_file():
            raise InputError(documents[role], f"{role} not found (from the fleet manifest {path})")
    given = fleet.get("plans")
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, list) or not all(isinstance(p, str) for p in given):
        raise InputError(path, "[fleet] plans must be a folder or a list of files")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise InputError(path, "[settings] must be a table")
    return FleetManifest(documents, list_plans([base / p for p in given], path), settings, bool(fleet.get("vision", False)))
