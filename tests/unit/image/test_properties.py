"""Property limits, and the proto/domain tables staying in step."""

import pytest

from components.framework.errors import InvalidArgument
from components.image import messages, properties, states
from stratus.image.v1 import image_service_pb2 as pb2


def test_reserved_property_keys_are_exactly_the_image_message_fields():
    assert set(pb2.Image.DESCRIPTOR.fields_by_name) == properties.RESERVED_KEYS


def test_every_status_has_its_proto_value():
    assert set(messages.STATUS) == set(states.ALL)
    assert set(messages.STATUS.values()) == set(pb2.Image.Status.values()) - {0}


@pytest.mark.parametrize(
    "bad",
    [
        {"": "v"},
        {"k" * 256: "v"},
        {"tab\tkey": "v"},
        {"checksum": "v"},
        {"v": "x" * 65536},
        {f"k{i}": "" for i in range(129)},
    ],
)
def test_properties_beyond_the_limits_are_invalid_argument(bad):
    with pytest.raises(InvalidArgument) as info:
        properties.check(bad)
    assert info.value.metadata["field"] == "properties"


def test_properties_at_the_limits_are_accepted():
    at_limit = {f"k{i}": "" for i in range(127)}
    at_limit["k" * 255] = "é" * (65535 // 2)
    assert properties.check(at_limit) == at_limit
