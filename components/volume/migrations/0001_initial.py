"""The volume service's first schema."""

from components.volume.models import MODELS


def up(migrator, db):
    db.create_tables(MODELS)
