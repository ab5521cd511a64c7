"""The image service's first schema."""

from components.image.models import MODELS


def up(migrator, db):
    db.create_tables(MODELS)
