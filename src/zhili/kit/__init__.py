"""Domain-free helpers: time, codes, geometry, pagination, translation."""
