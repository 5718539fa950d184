"""The public pages the benchmark loads; add every new public page here.

``FIRST_CARD_OF:<page>`` is the first information card linked from that page."""

PUBLIC_PAGES: list[tuple[str, str]] = [
    ("city portal", "/"),
    ("city portal, filtered", "/?kind=district_center"),
    ("tenant public page", "/o/chengdong/"),
    ("all hotlines", "/hotlines"),
    ("information card, print page", "FIRST_CARD_OF:/o/chengdong/"),
    ("feedback form", "/o/chengdong/feedback"),
]
