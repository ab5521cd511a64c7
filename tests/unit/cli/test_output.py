"""Output formatting: tables, json, yaml, value, and -c column selection."""

from __future__ import annotations

import json

import pytest
import yaml

from components.cli.errors import CliError
from components.cli.output import (
    Listing,
    Record,
    enum_name,
    render_listing,
    render_record,
    text_of,
    when,
)
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.type.v1 import instance_state_pb2

RECORD = Record({"id": "s-1", "name": "vm1", "addresses": {"private": ["10.0.0.5"]}})
LISTING = Listing(["ID", "Name", "Status"], [["s-1", "vm1", "ACTIVE"], ["s-2", "vm2", "BUILD"]])


def test_record_table_has_field_and_value_columns():
    assert render_record(RECORD, "table").splitlines() == [
        "+-----------+------------------+",
        "| Field     | Value            |",
        "+-----------+------------------+",
        "| id        | s-1              |",
        "| name      | vm1              |",
        "| addresses | private=10.0.0.5 |",
        "+-----------+------------------+",
    ]


def test_record_json_keeps_structure():
    assert json.loads(render_record(RECORD, "json")) == {
        "id": "s-1",
        "name": "vm1",
        "addresses": {"private": ["10.0.0.5"]},
    }


def test_record_yaml_keeps_structure_and_order():
    text = render_record(RECORD, "yaml")
    assert yaml.safe_load(text) == RECORD.fields
    assert text.splitlines()[0] == "id: s-1"


def test_record_value_prints_one_value_per_line():
    assert render_record(RECORD, "value") == "s-1\nvm1\nprivate=10.0.0.5"


def test_record_columns_select_fields_in_the_order_asked():
    assert render_record(RECORD, "value", ["name", "id"]) == "vm1\ns-1"


def test_listing_table_has_a_header_row():
    lines = render_listing(LISTING, "table").splitlines()
    assert lines[1] == "| ID  | Name | Status |"
    assert lines[3] == "| s-1 | vm1  | ACTIVE |"
    assert len(lines) == 6


def test_listing_json_is_a_list_of_objects_keyed_by_header():
    assert json.loads(render_listing(LISTING, "json", ["ID", "Status"])) == [
        {"ID": "s-1", "Status": "ACTIVE"},
        {"ID": "s-2", "Status": "BUILD"},
    ]


def test_listing_value_prints_rows_separated_by_spaces():
    assert render_listing(LISTING, "value", ["id"]) == "s-1\ns-2"


def test_listing_columns_match_case_insensitively():
    assert render_listing(LISTING, "value", ["status"]) == "ACTIVE\nBUILD"


def test_unknown_column_names_the_columns_there_are():
    with pytest.raises(CliError) as info:
        render_listing(LISTING, "table", ["Flavor"])
    assert info.value.format_message() == "No column 'Flavor'; the columns are: ID, Name, Status"


def test_table_is_not_cut_to_a_terminal_width_when_piped():
    long = Listing(["ID"], [["x" * 300]])
    assert "x" * 300 in render_listing(long, "table")


def test_table_cells_are_not_read_as_markup():
    text = render_record(Record({"name": "[bold]vm[/bold]"}), "table")
    assert "[bold]vm[/bold]" in text


def test_text_of_flattens_lists_dicts_and_none():
    assert text_of(None) == ""
    assert text_of(["a", "b"]) == "a, b"
    assert text_of({"private": ["10.0.0.5", "fd00::5"], "public": ["1.2.3.4"]}) == (
        "private=10.0.0.5, fd00::5; public=1.2.3.4"
    )
    assert text_of([{"device": "vdb"}, {"device": "vdc"}]) == "device=vdb\ndevice=vdc"


def test_enum_name_drops_the_type_prefix():
    server = api_pb2.Server(task_state=instance_state_pb2.TASK_STATE_BLOCK_DEVICE_MAPPING)
    assert enum_name(server, "task_state") == "BLOCK_DEVICE_MAPPING"
    image = image_pb2.Image(disk_format=image_pb2.Image.DISK_FORMAT_QCOW2)
    assert enum_name(image, "disk_format", lower=True) == "qcow2"


def test_when_is_iso_utc_and_none_when_unset():
    server = api_pb2.Server()
    assert when(server.create_time) is None
    server.create_time.FromSeconds(1_700_000_000)
    assert when(server.create_time) == "2023-11-14T22:13:20Z"
