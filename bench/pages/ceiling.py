"""The framework's ceiling: Litestar rendering a Jinja template with N items, no database.

``/`` renders CEILING_ITEMS items; ``/sized/<n>`` renders n (at most MAX_ITEMS), so that a
page can be set against a ceiling of its own size in bytes."""

from __future__ import annotations

import os

from jinja2 import Environment, DictLoader
from litestar import Litestar, Response, get

MAX_ITEMS = 5000
ALL_ITEMS = [
    {"slug": f"org-{i}", "name": f"海安某某调解组织 {i}", "kind": "企业劳动争议调解委员会", "address": f"海安市某路 {i} 号"}
    for i in range(MAX_ITEMS)
]
ITEMS = ALL_ITEMS[:int(os.environ.get("CEILING_ITEMS", "60"))]

TEMPLATE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>ceiling</title></head>
<body><main><h1>调解组织</h1><ul>{% for org in items %}<li><a href="/o/{{ org.slug }}/">{{ org.name }}</a>
<span>{{ org.kind }}</span><span>{{ org.address }}</span></li>{% endfor %}</ul></main></body></html>"""

env = Environment(loader=DictLoader({"page.html": TEMPLATE}), autoescape=True)


@get("/")
async def page() -> Response:
    return Response(env.get_template("page.html").render(items=ITEMS), media_type="text/html")


@get("/sized/{n:int}")
async def sized(n: int) -> Response:
    return Response(env.get_template("page.html").render(items=ALL_ITEMS[:max(0, min(n, MAX_ITEMS))]),
                    media_type="text/html")


app = Litestar([page, sized])
