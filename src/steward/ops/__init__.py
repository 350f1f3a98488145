"""Daily operation: data sources, the scheduled day, its record and alerts (R-OPS-2)."""
