"""Base data of the grids (一标三实): standard addresses, houses, residents, units and places; their
history, the privacy rules around personal data, and bulk collection."""
