"""The pages the benchmark loads; add every new page here.

``FIRST_CARD_OF:<page>`` is the first information card linked from that page,
``FIRST_EVENT_OF:<page>`` the first event."""

# Public pages: loaded from the page cache and with the cache off (PAGE_CACHE=off).
PUBLIC_PAGES: list[tuple[str, str]] = [
    ("city portal", "/"),
    ("city portal, filtered", "/?kind=district_center"),
    ("tenant public page", "/o/chengdong/"),
    ("all hotlines", "/hotlines"),
    ("information card, print page", "FIRST_CARD_OF:/o/chengdong/"),
    ("feedback form", "/o/chengdong/feedback"),
    ("feedback tracking form", "/track"),
    ("city event calendar", "/events"),
    ("city event calendar, month view", "/events?view=month"),
    ("tenant event listing", "/o/chengdong/events"),
    ("event detail (never cached: live seats)", "FIRST_EVENT_OF:/o/chengdong/events"),
]

# Signed-in pages: (label, account, path). Never cached.
STAFF_PAGES: list[tuple[str, str, str]] = [
    ("dashboard", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/"),
    ("events", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/events"),
    ("feedback mailbox", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/feedback"),
    ("hotlines", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/hotlines"),
    ("information cards", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/cards"),
    ("outreach", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/outreach"),
    ("messages", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/notifications"),
    ("members", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/members"),
    ("settings", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/settings"),
    ("audit log", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/audit"),
    ("coverage", "chengdong.admin@demo.tiaojie.cn", "/manage/chengdong/coverage"),
    ("city console", "city.admin@demo.tiaojie.cn", "/city/"),
    ("city outreach", "city.admin@demo.tiaojie.cn", "/city/outreach"),
    ("city events", "city.admin@demo.tiaojie.cn", "/city/events"),
    ("city feedback", "city.admin@demo.tiaojie.cn", "/city/feedback"),
    ("city health", "city.admin@demo.tiaojie.cn", "/city/health"),
]
