"""JSON response bodies."""

from __future__ import annotations

import json

from server.responses import dump_json


def test_dump_json_is_compact_utf8_and_takes_what_orjson_refuses():
    assert dump_json({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'.encode()
    # orjson stops at 64-bit integers; the standard encoder writes any integer
    assert json.loads(dump_json({"n": 2**70})) == {"n": 2**70}
