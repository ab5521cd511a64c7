"""The dashboard's pages, one module per panel (as Horizon's panels)."""

from __future__ import annotations

from starlette.routing import Route

from components.dashboard.views import (
    admin,
    auth,
    images,
    instances,
    keypairs,
    networks,
    overview,
    volumes,
)

PANELS = (auth, overview, instances, images, volumes, networks, keypairs, admin)


def routes() -> list[Route]:
    return [route for module in PANELS for route in module.pages.routes]
