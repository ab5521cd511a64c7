"""The compute database, shared by api, scheduler and conductor."""

from pathlib import Path

# The migrations every component on the compute database declares.
MIGRATIONS = Path(__file__).parent / "migrations"
