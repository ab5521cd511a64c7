"""The keypairs panel."""

from __future__ import annotations

from components.dashboard.web import Pages

pages = Pages()
