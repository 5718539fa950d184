"""The page environment's faster ``row.key`` (app/core/render.PageEnvironment) answers
exactly what Jinja's own environment answers, for dicts and for everything else."""

from __future__ import annotations

import pytest
from jinja2 import Environment, StrictUndefined, UndefinedError

from app.core.render import PageEnvironment, get_env


class Row:
    name = "attribute"

    def __getitem__(self, key):
        return "item"


class Sub(dict):
    name = "attribute of a dict subclass"


CASES = [
    ("{{ row.name }}", {"name": "王 <b>"}),
    ("{{ row.items() | list | length }}", {"items": "a key named items", "x": 1}),
    ("{{ row.keys() | list | join(',') }}", {"b": 1, "a": 2}),
    ("{{ row.get('a', 'none') }}", {"a": "got"}),
    ("{{ row.name }}", Row()),
    ("{{ row.name }}", Sub(name="item")),
    ("{{ row['name'] }}", {"name": "by subscript"}),
    ("{{ row.nested.deeper }}", {"nested": {"deeper": 7}}),
    ("{{ row.name is defined }}", {}),
    ("{{ row.count }}", [1, 2]),
]


@pytest.mark.parametrize(("source", "row"), CASES)
def test_same_answer_as_jinja(source, row):
    ours = PageEnvironment(autoescape=True, undefined=StrictUndefined).from_string(source)
    theirs = Environment(autoescape=True, undefined=StrictUndefined).from_string(source)
    assert ours.render(row=row) == theirs.render(row=row)


def test_missing_key_is_still_an_error_under_strict_undefined():
    template = PageEnvironment(undefined=StrictUndefined).from_string("{{ row.missing }}")
    with pytest.raises(UndefinedError, match="missing"):
        template.render(row={"name": "x"})


def test_the_app_renders_with_it():
    assert isinstance(get_env(), PageEnvironment)
