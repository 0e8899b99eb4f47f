"""Deterministic demo data for the appeal database.

``seed_demo`` fills an empty system of record (regions, departments, appeals
and their events) with realistic synthetic appeals for a territory: channels,
two-level categories with their seasons and rhythms, working-day time limits,
handling levels, callbacks, repeats, supervision, stable hotspots and a few
planted emerging hotspots (``plan_hotspots``) in the last 14 days.

Modules: ``catalogue`` (categories, channels, rhythms, limits, departments),
``people`` (names, phones, roads, estates), ``texts`` (summaries and notes),
``places`` (territory index, departments, points), ``hotspots``, ``plan``
(volumes), ``appeals`` (one month of appeals), ``outcomes`` (timeline),
``events`` (event log) and ``writer`` (``seed_demo``).
"""

from .hotspots import PlantedHotspot, plan_hotspots
from .writer import SeedReport, seed_demo

__all__ = ["PlantedHotspot", "SeedReport", "plan_hotspots", "seed_demo"]
