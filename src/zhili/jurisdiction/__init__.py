"""Jurisdiction: the region tree, grids, departments and staff."""
