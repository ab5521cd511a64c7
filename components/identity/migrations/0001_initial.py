"""Identity's first schema."""

from components.identity.models import MODELS


def up(migrator, db):
    db.create_tables(MODELS)
