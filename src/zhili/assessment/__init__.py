"""The assessment ledger (考评): KPIs from the event log, rankings, monthly snapshots."""
