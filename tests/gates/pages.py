"""Every page a person can open, on the demo data: the list the page-quality gates visit.

Keyed by the route's path template, so ``test_every_html_page_is_listed`` fails
when a GET route that renders HTML is not here. Each entry: (demo account or
None for anonymous, URL). A page with error messages counts as a page too.
"""

from __future__ import annotations

CITY_ADMIN = "city.admin@demo.tiaojie.cn"
DISTRICT_ADMIN = "chengdong.admin@demo.tiaojie.cn"
DISTRICT_STAFF = "chengdong.staff@demo.tiaojie.cn"
UNION_REP = "union.rep@demo.tiaojie.cn"

PAGES: dict[str, list[tuple[str | None, str]]] = {
    "/": [(None, "/"), (None, "/?kind=enterprise_committee&q=%E5%9F%8E%E4%B8%9C")],
    "/o/{slug:str}": [(None, "/o/chengdong/"), (None, "/o/city/")],
    "/login": [(None, "/login")],
    "/account/password": [(DISTRICT_STAFF, "/account/password")],
    "/manage/{slug:str}": [(DISTRICT_STAFF, "/manage/chengdong/"), (UNION_REP, "/manage/union-city/")],
    "/manage/{slug:str}/settings": [(DISTRICT_ADMIN, "/manage/chengdong/settings")],
    "/manage/{slug:str}/audit": [(DISTRICT_ADMIN, "/manage/chengdong/audit")],
    "/manage/{slug:str}/members": [(DISTRICT_ADMIN, "/manage/chengdong/members")],
    "/city": [(CITY_ADMIN, "/city/")],
    "/city/tenants/new": [(CITY_ADMIN, "/city/tenants/new")],
    "/city/tenants/{slug:str}/edit": [(CITY_ADMIN, "/city/tenants/chengdong/edit")],
}

# Pages reached by doing something rather than by a GET of a route.
ERROR_PAGES: list[tuple[str | None, str]] = [
    (None, "/o/no-such-organisation/"),  # 404
    (DISTRICT_STAFF, "/manage/chengdong/settings"),  # 403
]

# GET routes that answer something other than an HTML page.
NOT_PAGES = {"/healthz", "/static/{file_path:path}", "/lang/{locale:str}"}
