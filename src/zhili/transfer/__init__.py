"""Bulk transfer of work orders: importing historical appeals (files, admin page, CLI) and exporting
the order list to Excel and CSV."""
