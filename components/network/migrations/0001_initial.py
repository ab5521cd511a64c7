"""The network service's first schema."""

from components.network.models import MODELS


def up(migrator, db):
    db.create_tables(MODELS)
