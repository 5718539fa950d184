"""The public pages the benchmark loads; add every new public page here."""

PUBLIC_PAGES: list[tuple[str, str]] = [
    ("city portal", "/"),
    ("city portal, filtered", "/?kind=district_center"),
    ("tenant public page", "/o/chengdong/"),
]
