"""The page environment's faster ``row.key`` and output escape (app/core/render.PageEnvironment)
answer exactly what Jinja's own environment answers, for dicts and for everything else."""

from __future__ import annotations

import pytest
from jinja2 import Environment, StrictUndefined, UndefinedError

from markupsafe import Markup, escape

from app.core.render import PageEnvironment, get_env, output_escape


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


class Html:
    def __html__(self):
        return "<i>already safe</i>"

    def __str__(self):
        return "<never used>"


class Text:
    def __str__(self):
        return "a <plain> object & more"


VALUES = ["", "plain 文字 text", "<script>alert('x')</script>", 'a "quoted" & ampersand', "it's", "&amp;",
          0, -7, 12345678901234567890, 1.5, float("inf"), float("nan"), 1e-7, True, False, None,
          Markup("<b>bold</b>"), Markup(""), Html(), Text(), [1, "<x>"], {"k": "<v>"}, b"<bytes>"]

# Every place a value is written: a page, a macro, a call block, a set block, a filter
# block, a loop, a conditional expression and an included template.
OUTPUTS = [
    "{{ v }}",
    "{% macro m(a) %}[{{ a }}]{% endmacro %}{{ m(v) }}",
    "{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}{{ v }}{% endcall %}",
    "{% set s %}{{ v }}!{% endset %}{{ s }}|{{ s | length }}",
    "{% filter upper %}{{ v }}{% endfilter %}",
    "{% for x in [v, v] %}{{ loop.index }}{{ x }}{% endfor %}",
    "{{ v if v else 'none' }}",
    "{{ v ~ '<tail>' }}",
    "{{ v | e }}{{ v | safe }}{{ v | string }}",
    "{% include 'part' %}",
]


@pytest.mark.parametrize("source", OUTPUTS)
def test_output_is_what_jinja_writes(source):
    from jinja2 import DictLoader

    loader = DictLoader({"page": source, "part": "({{ v }})"})
    ours = PageEnvironment(autoescape=True, loader=loader).get_template("page")
    theirs = Environment(autoescape=True, loader=loader).get_template("page")
    for value in VALUES:
        assert ours.render(v=value) == theirs.render(v=value), value


def test_output_escape_escapes_what_needs_it():
    for value in VALUES:
        assert output_escape(value) == escape(value), value
    assert output_escape("<&>\"'") == "&lt;&amp;&gt;&#34;&#39;"


def test_templates_compile_to_the_faster_escape():
    source = PageEnvironment(autoescape=True).compile("{{ v }}", raw=True)
    assert "environment.output_escape(" in source
    assert "escape(" not in source.replace("output_escape(", "")


def _plain(a="", b=""):
    return f"plain({a},{b})"


def _keywords(**given):
    return sorted(given.items())


def _stops():
    raise StopIteration


class _ContextCallable:
    from jinja2 import pass_context as _pass_context

    @_pass_context
    def __call__(self, context, name):
        return f"{name}={context.get(name)}"


# Calls as templates make them, at the top, in a loop and in a block (where Jinja adds
# _loop_vars and _block_vars), to macros, plain functions, functions that ask for the
# context, the environment or the evaluation context, and callable objects.
CALLS = [
    "{% macro m(a, b='d') %}{{ a }}{{ b }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}{{ m(1, 2, 3, x=4) }}",
    "{% macro m(a) %}{{ a }}{% endmacro %}{% for i in [1, 2] %}{% set v = i %}{{ m(v) }}{{ plain(v) }}{% endfor %}",
    "{% block b %}{% set v = 'block' %}{{ plain(v) }}{{ ctx('v') }}{% endblock %}",
    "{% for v in ['loop'] %}{{ ctx('v') }}{{ env_name() }}{{ eval_auto() }}{% endfor %}",
    "{{ plain(a='<x>', b=2) }}{{ plain(b='self') }}{{ callable_object('v') }}",
    "{{ stops() is undefined }}",
    "{{ keywords(self=1, callee=2, obj=3) }}",
    "{% macro w() %}[{{ caller(5) }}]{% endmacro %}{% call(n) w() %}{{ plain(n) }}{% endcall %}",
]


@pytest.mark.parametrize("source", CALLS)
def test_calls_are_what_jinja_makes(source):
    from jinja2 import pass_context, pass_environment, pass_eval_context

    functions = {
        "plain": _plain, "stops": _stops, "keywords": _keywords, "callable_object": _ContextCallable(),
        "ctx": pass_context(lambda context, name: f"{name}={context.get(name)}"),
        "env_name": pass_environment(lambda environment: type(environment).__name__.endswith("Environment")),
        "eval_auto": pass_eval_context(lambda eval_ctx: eval_ctx.autoescape),
    }
    results = []
    for environment in (PageEnvironment(autoescape=True), Environment(autoescape=True)):
        environment.globals.update(functions)
        results.append(environment.from_string(source).render(v="top"))
    assert results[0] == results[1]
    assert results[0]


def test_the_app_uses_the_shorter_call():
    from app.core.render import PageContext

    assert get_env().context_class is PageContext


def test_templates_imported_without_context_read_nothing_from_the_page():
    """Macro files imported without ``with context`` are built once per process (Jinja caches
    them), so they see only the environment's globals: whatever else they need (the CSRF
    token, the organisation's slug) must be a parameter."""
    import re

    from jinja2 import meta

    from app.core.render import TEMPLATES

    env = get_env()
    imported = set()
    for path in TEMPLATES.rglob("*.html"):
        for statement in re.finditer(r'{%-?\s*(?:import|from)\s+"([^"]+)"[^%]*?%}', path.read_text()):
            if "with context" not in statement.group(0):
                imported.add(statement.group(1))
    assert "macros.html" in imported
    for name in sorted(imported):
        source = env.loader.get_source(env, name)[0]
        assert meta.find_undeclared_variables(env.parse(source)) <= set(env.globals), name
