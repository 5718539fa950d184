"""The public pages the benchmark loads; add every new public page here.

``FIRST_CARD_OF:<page>`` is the first information card linked from that page,
``FIRST_EVENT_OF:<page>`` the first event."""

PUBLIC_PAGES: list[tuple[str, str]] = [
    ("city portal", "/"),
    ("city portal, filtered", "/?kind=district_center"),
    ("tenant public page", "/o/chengdong/"),
    ("all hotlines", "/hotlines"),
    ("information card, print page", "FIRST_CARD_OF:/o/chengdong/"),
    ("feedback form", "/o/chengdong/feedback"),
    ("city event calendar", "/events"),
    ("city event calendar, month view", "/events?view=month"),
    ("tenant event listing", "/o/chengdong/events"),
    ("event detail (not cached: live seats)", "FIRST_EVENT_OF:/o/chengdong/events"),
]
