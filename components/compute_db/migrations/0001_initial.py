"""The compute database's first schema."""

from components.compute_db.models import MODELS


def up(migrator, db):
    db.create_tables(MODELS)
