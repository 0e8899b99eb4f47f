"""Geography: coordinate systems (WGS84 / GCJ-02 / BD-09) and the demo territory."""
