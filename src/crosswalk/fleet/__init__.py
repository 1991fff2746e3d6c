"""Fleets: many plans between the same two vendors; the shared work once, each plan's own work on workers.

`crosswalk fleet MANIFEST.toml -o OUT [--workers N | --scheduler tcp://HOST:PORT]` (README, "Fleets").
"""

from .driver import FleetResult, run_fleet
from .manifest import FleetManifest, Plan, read_fleet_manifest
from .plan import SharedWork, fill_template

__all__ = ["FleetManifest", "FleetResult", "Plan", "SharedWork", "fill_template", "read_fleet_manifest", "run_fleet"]
