"""`load_json`, the one JSON decoder for outside text: nesting is bounded on both of its paths
(orjson, and the stdlib for what orjson refuses), and every refusal is one line."""

from __future__ import annotations

import pytest

from federation.protocol.vocab.jsondoc import JSONRefused, load_json

ODD = '"\\ud800"'  # a lone surrogate escape: orjson refuses it, the stdlib takes it


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("odd", [False, True], ids=["orjson", "stdlib"])
@pytest.mark.parametrize("depth", [1, 8, 31, 32])
def test_as_deep_as_allowed_is_decoded(odd, depth):
    text = nested(depth, ODD if odd else "1")
    value = load_json(text, 32)
    for _ in range(depth - 1):
        value = value[0]
    assert value == ["\ud800" if odd else 1]


@pytest.mark.parametrize("odd", [False, True], ids=["orjson", "stdlib"])
@pytest.mark.parametrize("depth", [33, 1_020, 1_025, 100_000])
def test_deeper_is_refused_without_recursing(odd, depth):
    with pytest.raises(JSONRefused, match="^nested more than 32 levels deep$"):
        load_json(nested(depth, ODD if odd else ""), 32)


@pytest.mark.parametrize("odd", [False, True], ids=["orjson", "stdlib"])
def test_brackets_inside_strings_do_not_count(odd):
    text = '{"a": "[[[[[[[[[[{{{{{{{{{{\\"]]]]", "n": ' + (ODD if odd else "1") + ', "b": [[["x"]]]}'
    assert load_json(text.encode(), 4)["b"] == [[["x"]]]
    with pytest.raises(JSONRefused):
        load_json(text, 3)


def test_objects_count_as_levels_as_arrays_do():
    assert load_json('{"a": {"b": [{"c": 1}]}}', 4) == {"a": {"b": [{"c": 1}]}}
    with pytest.raises(JSONRefused, match="nested more than 3"):
        load_json('{"a": {"b": [{"c": 1}]}}', 3)


@pytest.mark.parametrize("data, message", [
    ("{not json", "^not JSON: "),
    (b"\xff\xfe{}", "^not UTF-8: invalid start byte at byte 0$"),
    ("", "^not JSON: "),
])
def test_what_is_not_json_is_refused_in_one_line(data, message):
    with pytest.raises(JSONRefused, match=message) as refused:
        load_json(data, 32)
    assert "\n" not in str(refused.value)
