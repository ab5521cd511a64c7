"""ImagePropertiesFilter: the image's architecture and hypervisor type, when set.

Names are compared as nova canonicalises them: case does not matter and the
common aliases of an architecture are the same architecture.
"""

from __future__ import annotations

from components.scheduler.filters import BaseHostFilter
from components.scheduler.host_state import HostState
from components.scheduler.request_spec import RequestSpec

ARCHITECTURE_ALIASES = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "arm64": "aarch64",
    "i386": "i686",
    "x86": "i686",
    "ppc64el": "ppc64le",
}


def canonical_architecture(name: str) -> str:
    name = name.strip().lower()
    return ARCHITECTURE_ALIASES.get(name, name)


class ImagePropertiesFilter(BaseHostFilter):
    name = "ImagePropertiesFilter"

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.image_properties.keys() & {"architecture", "hypervisor_type"})

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        wanted_arch = spec.image_properties.get("architecture", "")
        if wanted_arch and canonical_architecture(wanted_arch) != canonical_architecture(
            host_state.architecture
        ):
            return False
        wanted_hv = spec.image_properties.get("hypervisor_type", "")
        return not wanted_hv or wanted_hv.strip().lower() == host_state.hypervisor_type.lower()
