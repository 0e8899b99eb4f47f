"""Page building blocks: theme, URL parameters, formatting, tiles, charts and maps.

Pages compose these; the figures come from ``data_access.cached``.
"""
