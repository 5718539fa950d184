"""Staff read the audit log as sentences with names: every recorded action has one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import i18n
from app.audit.sentences import _REGISTRY, Names, describe, is_described, sentence, with_sentences
from app.i18n import lazy_gettext as _l
from tests.support import csrf_token, login

ROOT = Path(__file__).resolve().parents[2]
RECORDED = re.compile(r"\b(?:record|_audit)\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*\"([a-z_]+\.[a-z_]+)\"")


def _recorded_actions() -> set[str]:
    found = set()
    for folder in ("app", "tenants", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(RECORDED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_recorded_action_reads_as_a_sentence():
    from app.main import create_app

    create_app()  # every domain's routes are imported and have registered their sentences
    actions = _recorded_actions()
    assert {"hotline.deleted", "member.removed", "tenant.profile_updated"} <= actions  # the scan finds them
    missing = sorted(a for a in actions if not is_described(a))
    assert not missing, f"describe these audit actions in app.audit.sentences (describe(...)): {missing}"


@pytest.fixture
def english():
    token = i18n.set_locale("en")
    yield
    i18n.reset_locale(token)


def test_an_old_member_removal_names_the_person_not_an_id(english):
    names = Names(users={4: "赵明"})
    entry = {"action": "member.removed", "target": "4", "detail": '{"user_id": 4, "role": "staff"}',
             "user_name": "王立新"}
    text = sentence(entry, names)
    assert text == "王立新 removed 赵明 (Staff / mediator) from the organisation."
    assert "4" not in text and "member.removed" not in text


def test_an_action_nobody_described_is_still_a_sentence(english):
    text = sentence({"action": "mystery.done", "target": "调解室", "detail": {}, "user_name": "李海燕"}, Names())
    assert text == "李海燕 made a change (调解室)." and "mystery" not in text
    describe("mystery.done", _l("%(who)s did the mystery thing to %(target)s."))
    try:
        assert sentence({"action": "mystery.done", "target": "X", "detail": {}, "user_name": None}, Names()) == \
            "Someone did the mystery thing to X."
    finally:
        _REGISTRY.pop("mystery.done")


async def test_the_audit_page_shows_sentences_with_names(client, world):
    await login(client, world.users["a_admin"])
    await client.post("/manage/district-a/hotlines", data={"label": "调解热线", "number": "0513 8888 1234",
                                                          "_csrf_token": csrf_token(client)})
    members = (await client.get("/manage/district-a/members")).text
    member_id = re.search(r'/manage/district-a/members/(\d+)/remove" class="inline confirm-start"[^>]*>\s*<input[^>]*>\s*'
                          r'<button[^>]*>Remove a_staff<', members).group(1)
    await client.post(f"/manage/district-a/members/{member_id}/remove",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    page = (await client.get("/manage/district-a/audit")).text
    assert "a_admin added the hotline “调解热线” (0513-8888 1234)." in page
    assert "a_admin removed a_staff (Staff / mediator) from the organisation." in page
    for code in ("hotline.created", "member.removed", "<code>"):
        assert code not in page
    zh = (await client.get("/manage/district-a/audit", headers={"Accept-Language": "zh-CN"})).text
    assert "a_admin添加了热线“调解热线”（0513-8888 1234）。" in zh
    assert "a_admin将a_staff（工作人员/调解员）移出了本组织。" in zh


async def test_with_sentences_looks_names_up_once(world, english):
    from app.accounts.tables import User

    user = await User.select(User.id, User.name).first()
    rows = await with_sentences([
        {"action": "member.role_changed", "target": "9", "user_name": "甲",
         "detail": {"user_id": user["id"], "from": "staff", "to": "admin"}},
        {"action": "tenant.updated", "target": "district-a", "user_name": "乙",
         "detail": {"tenant_id": world.tenants["a"]["id"], "changes": {"name": ["a", "b"], "active": [True, False]}}},
    ])
    assert rows[0]["sentence"] == f"甲 changed the role of {user['name']} from Staff / mediator to Administrator."
    assert rows[1]["sentence"] == "乙 changed district-a name: Name, Active or deactivated."
