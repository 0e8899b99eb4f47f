"""Importers: bring a city's own data into the system of record.

* ``regions``: boundary files (GeoJSON, GeoPackage, Shapefile, zipped
  Shapefile, CSV with WKT) as regions of one level (``import-regions``).
* ``appeals`` and its helpers: a city's appeal export (``import-appeals``).

Every importer validates before it writes, writes through SQLAlchemy Core
with bound parameters, and stamps ``updated_at`` on the rows it writes with
the city's local time, so the dashboard's sync sees the change.
"""
