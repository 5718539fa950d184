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
    # The demo has no pending invitation (its link is a secret): the page a used or unknown link
    # shows is checked among ERROR_PAGES (it answers 404); the page of a real link is checked (axe,
    # 360 px) by tests/browser/test_invitations_browser.py, which invites someone first.
    "/invitations/{invitation_token:str}": [],
    "/": [(None, "/"), (None, "/?kind=enterprise_committee&q=%E5%9F%8E%E4%B8%9C")],
    "/o/{slug:str}": [(None, "/o/chengdong/"), (None, "/o/city/")],
    "/login": [(None, "/login")],
    "/account/password": [(DISTRICT_STAFF, "/account/password")],
    "/account/organisations": [(DISTRICT_STAFF, "/account/organisations")],
    "/manage/{slug:str}": [(DISTRICT_STAFF, "/manage/chengdong/"), (UNION_REP, "/manage/union-city/")],
    "/manage/{slug:str}/settings": [(DISTRICT_ADMIN, "/manage/chengdong/settings")],
    "/manage/{slug:str}/audit": [(DISTRICT_ADMIN, "/manage/chengdong/audit")],
    "/manage/{slug:str}/members": [(DISTRICT_ADMIN, "/manage/chengdong/members")],
    "/city": [(CITY_ADMIN, "/city/")],
    "/city/outreach": [(CITY_ADMIN, "/city/outreach")],
    "/city/notifications": [(CITY_ADMIN, "/city/notifications")],
    "/manage/{slug:str}/notifications": [(DISTRICT_STAFF, "/manage/chengdong/notifications"),
                                         (DISTRICT_STAFF, "/manage/chengdong/notifications?status=failed")],
    "/manage/{slug:str}/notifications/{notification_id:int}": [(DISTRICT_STAFF, "NOTIFICATION:chengdong")],
    "/manage/{slug:str}/inbox": [(DISTRICT_STAFF, "/manage/chengdong/inbox")],
    "/hotlines": [(None, "/hotlines"), (None, "/hotlines?district=%E5%9F%8E%E4%B8%9C%E9%95%87")],
    "/o/{slug:str}/cards/{card_id:str}": [(None, "CARD:chengdong"), (None, "CARD:chengdong?sheet=a4")],
    "/manage/{slug:str}/hotlines": [(DISTRICT_STAFF, "/manage/chengdong/hotlines")],
    "/manage/{slug:str}/hotlines/{hotline_id:str}/edit": [(DISTRICT_STAFF, "HOTLINE_EDIT:chengdong")],
    "/manage/{slug:str}/cards": [(DISTRICT_STAFF, "/manage/chengdong/cards")],
    "/manage/{slug:str}/cards/new": [(DISTRICT_STAFF, "/manage/chengdong/cards/new")],
    "/manage/{slug:str}/cards/{card_id:str}/edit": [(DISTRICT_STAFF, "CARD_EDIT:chengdong")],
    "/manage/{slug:str}/outreach": [(DISTRICT_STAFF, "/manage/chengdong/outreach")],
    "/city/tenants/new": [(CITY_ADMIN, "/city/tenants/new")],
    "/city/tenants/{slug:str}/edit": [(CITY_ADMIN, "/city/tenants/chengdong/edit")],
    "/events": [(None, "/events"), (None, "/events?view=month"),
                (None, "/events?kind=case_explanation&topic=wages&district=%E5%9F%8E%E4%B8%9C%E9%95%87")],
    "/o/{slug:str}/events": [(None, "/o/chengdong/events"), (None, "/o/chengdong/events?view=month")],
    "/o/{slug:str}/events/{event_id:int}": [(None, "EVENT:chengdong")],
    "/o/{slug:str}/registrations/{registration_token:str}": [(None, "REGISTRATION:chengdong")],
    "/manage/{slug:str}/events": [(DISTRICT_STAFF, "/manage/chengdong/events")],
    "/manage/{slug:str}/events/new": [(DISTRICT_STAFF, "/manage/chengdong/events/new")],
    "/manage/{slug:str}/events/{event_id:int}": [(DISTRICT_STAFF, "EVENT_STAFF:chengdong")],
    "/manage/{slug:str}/events/{event_id:int}/edit": [(DISTRICT_STAFF, "EVENT_EDIT:chengdong")],
    "/manage/{slug:str}/events/{event_id:int}/checkin": [(DISTRICT_STAFF, "EVENT_CHECKIN:chengdong")],
    "/manage/{slug:str}/checkin/{checkin_code:str}": [(DISTRICT_STAFF, "EVENT_SCAN:chengdong")],
    "/manage/{slug:str}/groups": [(UNION_REP, "/manage/union-city/groups")],
    "/manage/{slug:str}/groups/new": [(UNION_REP, "/manage/union-city/groups/new")],
    "/manage/{slug:str}/groups/{group_id:int}": [(UNION_REP, "GROUP:union-city")],
    "/city/events": [(CITY_ADMIN, "/city/events")],
    "/city/registry": [(CITY_ADMIN, "/city/registry")],
    "/city/registry/{register:str}": [(CITY_ADMIN, "/city/registry/enterprises"),
                                      (CITY_ADMIN, "/city/registry/chambers?missing=1")],
    "/city/registry/{register:str}/import": [(CITY_ADMIN, "/city/registry/enterprises/import")],
    "/city/registry/{register:str}/import/{token:str}": [(CITY_ADMIN, "REGISTRY_PREVIEW:enterprises"),
                                                         (CITY_ADMIN, "REGISTRY_PREVIEW_ERRORS:enterprises")],
    "/city/coverage": [(CITY_ADMIN, "/city/coverage")],
    "/city/coverage/missing": [(CITY_ADMIN, "/city/coverage/missing?measure=enterprises"),
                               (CITY_ADMIN, "/city/coverage/missing?measure=centers")],
    "/manage/{slug:str}/coverage": [(DISTRICT_ADMIN, "/manage/chengdong/coverage")],
    "/city/reports": [(CITY_ADMIN, "/city/reports"), (CITY_ADMIN, "/city/reports?district=%E5%9F%8E%E4%B8%9C%E9%95%87")],
    "/manage/{slug:str}/reports": [(DISTRICT_ADMIN, "/manage/chengdong/reports")],
    "/city/health": [(CITY_ADMIN, "/city/health"), (CITY_ADMIN, "/city/health?check=no_admin")],
    "/city/broadcasts": [(CITY_ADMIN, "/city/broadcasts")],
    "/city/broadcasts/new": [(CITY_ADMIN, "/city/broadcasts/new")],
    "/city/broadcasts/{broadcast_id:int}": [(CITY_ADMIN, "BROADCAST:city")],
    "/manage/{slug:str}/broadcasts": [(DISTRICT_STAFF, "/manage/chengdong/broadcasts"),
                                      (DISTRICT_ADMIN, "/manage/chengdong/broadcasts")],
    "/o/{slug:str}/feedback": [(None, "/o/chengdong/feedback"), (None, "/o/ent-chengdong-jiancai/feedback")],
    "/track": [(None, "/track")],
    "/manage/{slug:str}/feedback": [(DISTRICT_STAFF, "/manage/chengdong/feedback"),
                                    (DISTRICT_STAFF, "/manage/chengdong/feedback?status=all&overdue=1"),
                                    (CITY_ADMIN, "/manage/city/feedback")],
    "/manage/{slug:str}/feedback/settings": [(DISTRICT_ADMIN, "/manage/chengdong/feedback/settings")],
    "/manage/{slug:str}/feedback/{item_id:str}": [(DISTRICT_STAFF, "FEEDBACK_ITEM:chengdong")],
    "/city/feedback": [(CITY_ADMIN, "/city/feedback"), (CITY_ADMIN, "/city/feedback?days=365")],
    "/manage/{slug:str}/training": [(DISTRICT_STAFF, "/manage/chengdong/training"),
                                    (CITY_ADMIN, "/manage/city/training")],
    "/manage/{slug:str}/training/programmes/new": [(CITY_ADMIN, "/manage/city/training/programmes/new")],
    "/manage/{slug:str}/training/programmes/{programme_id:int}": [(CITY_ADMIN, "TRAINING_PROGRAMME:city")],
    "/manage/{slug:str}/training/programmes/{programme_id:int}/edit": [(CITY_ADMIN, "TRAINING_PROGRAMME_EDIT:city")],
    "/manage/{slug:str}/training/assignments/{assignment_id:int}": [(DISTRICT_STAFF, "TRAINING_ASSIGNMENT:chengdong")],
    "/manage/{slug:str}/training/overview": [(CITY_ADMIN, "/manage/city/training/overview"),
                                             (DISTRICT_STAFF, "/manage/chengdong/training/overview")],
    "/manage/{slug:str}/subtree": [(DISTRICT_STAFF, "/manage/chengdong/subtree")],
    "/city/training/areas": [(CITY_ADMIN, "/city/training/areas")],
}

# URLs with ids of demo rows are written KIND:slug and resolved in the browser test
# from the links of the staff pages (CARD, CARD_EDIT, HOTLINE_EDIT, EVENT…, GROUP).

# Pages reached by doing something rather than by a GET of a route.
ERROR_PAGES: list[tuple[str | None, str, int]] = [
    (None, "/o/no-such-organisation/", 404),
    (DISTRICT_STAFF, "/manage/chengdong/settings", 403),
    (None, "/invitations/used-or-unknown-link", 404),
]

# GET routes that answer something other than an HTML page.
NOT_PAGES = {
    "/healthz",
    "/livez",
    "/readyz",
    "/static/{file_path:path}",
    "/lang/{locale:str}",
    "/q/{code:str}",  # a counted redirect
    "/o/{slug:str}/cards/{card_id:str}/qr.png",  # an image
    "/events.ics",  # calendar feeds
    "/o/{slug:str}/events.ics",
    "/o/{slug:str}/events/{event_id:int}/event.ics",
    "/city/registry/{register:str}/export",  # a spreadsheet download
    "/city/registry/{register:str}/template",  # a spreadsheet download
    "/city/reports/export",  # a spreadsheet download
    "/manage/{slug:str}/reports/export",  # a spreadsheet download
    "/manage/{slug:str}/training/overview.csv",  # downloads
    "/manage/{slug:str}/training/overview.xlsx",
    "/manage/{slug:str}/training/materials/{material_id:int}",
    "/manage/{slug:str}/training/evidence/{completion_id:int}",
    "/city/training",  # a redirect to the city center's training overview
    "/city/reports/export",  # a spreadsheet download
    "/manage/{slug:str}/reports/export",  # a spreadsheet download
}
