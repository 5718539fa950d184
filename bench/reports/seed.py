"""Seed a large network straight into PostgreSQL with generate_series (run with the bench's
environment, after migrating): 20 districts, their centers, 2,000 enterprise committees,
60 chamber organisations, 5 unions; a register of 5,000 enterprises and 200 chambers;
20,000 events with 200,000 registrations and attendees; 1,000,000 outreach entries;
200,000 feedback items. Everything spread over the last 24 months. Then a city admin and a
district admin to sign in with. Prints what it made, and how long the seeding took, as JSON.

The numbers are reproducible (setseed); the values are plausible, not real.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

PASSWORD = "Bench-pass-2024"
CITY_ADMIN = "city.admin@bench.tiaojie.cn"
DISTRICT_ADMIN = "d01.admin@bench.tiaojie.cn"

SQL = [
    "SELECT setseed(0.42)",
    # --- organisations
    """INSERT INTO tenant (slug, name, kind, parent, district, address, reception_window, reception_contact)
       VALUES ('city', '市劳动人事争议联合调处中心', 'city_center', NULL, '', '市府路1号', '一楼', '王主任')""",
    """INSERT INTO tenant (slug, name, kind, parent, district, address, reception_window, reception_contact)
       SELECT 'd' || lpad(g::text, 2, '0'), '第' || lpad(g::text, 2, '0') || '镇劳动人事争议调解中心', 'district_center',
              (SELECT id FROM tenant WHERE slug = 'city'), '第' || lpad(g::text, 2, '0') || '镇', '镇府路' || g || '号',
              '接待窗口', CASE WHEN g <= 18 THEN '李调解员' ELSE '' END
       FROM generate_series(1, 20) g""",
    """INSERT INTO tenant (slug, name, kind, parent, district, address)
       SELECT 'e' || lpad(g::text, 4, '0'), '企业' || g || '劳动争议调解委员会', 'enterprise_committee', d.id, d.district,
              '工业园' || g || '号'
       FROM generate_series(1, 2000) g JOIN tenant d ON d.slug = 'd' || lpad((1 + g % 20)::text, 2, '0')""",
    """INSERT INTO tenant (slug, name, kind, parent, district, address)
       SELECT 'c' || lpad(g::text, 3, '0'), '商会' || g || '劳动争议调解组织', 'chamber_org', d.id, d.district, '商会路' || g || '号'
       FROM generate_series(1, 60) g JOIN tenant d ON d.slug = 'd' || lpad((1 + g % 20)::text, 2, '0')""",
    """INSERT INTO tenant (slug, name, kind, parent, district, address)
       SELECT 'u' || g, '工会' || g, 'union', (SELECT id FROM tenant WHERE slug = 'city'), '', '工人路' || g || '号'
       FROM generate_series(1, 5) g""",
    # --- the register
    """INSERT INTO enterprise (tenant, district, name, credit_code, employees, labour_intensive, has_committee)
       SELECT (SELECT id FROM tenant WHERE slug = 'city'), '第' || lpad((1 + g % 20)::text, 2, '0') || '镇',
              '企业' || g, '91320621MA' || lpad(g::text, 8, '0'), 20 + (random() * 800)::int, random() < 0.7,
              random() < 0.55
       FROM generate_series(1, 5000) g""",
    """INSERT INTO chamber (tenant, district, name, credit_code, federation_member, has_mediation_org)
       SELECT (SELECT id FROM tenant WHERE slug = 'city'),
              CASE WHEN g % 10 = 0 THEN '' ELSE '第' || lpad((1 + g % 20)::text, 2, '0') || '镇' END,
              '商会' || g, '51320621MJ' || lpad(g::text, 8, '0'), random() < 0.5, random() < 0.65
       FROM generate_series(1, 200) g""",
    # --- events: over the last 24 months and the next month; a few cancelled, a few drafts
    """CREATE TEMP TABLE orgs AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM tenant
       WHERE kind IN ('district_center', 'enterprise_committee', 'chamber_org')""",
    """INSERT INTO event (tenant, kind, title, starts_at, ends_at, venue, capacity, status)
       SELECT o.id, (ARRAY['seminar','salon','case_explanation','special_session','training'])[1 + s.g % 5],
              '活动' || s.g, s.at, s.at + interval '2 hours', '会议室', 50,
              CASE WHEN s.g % 33 = 0 THEN 'cancelled' WHEN s.g % 50 = 0 THEN 'draft'
                   WHEN s.at < now() - interval '7 days' THEN 'completed' ELSE 'published' END
       FROM (SELECT g, now() - random() * interval '730 days' + interval '30 days' AS at
             FROM generate_series(1, 20000) g) s
       JOIN orgs o ON o.n = 1 + (s.g * 7919) % (SELECT count(*) FROM orgs)""",
    # --- ten registrations per event, one attendee each, three in four checked in at held events
    """INSERT INTO registration (tenant, event, kind, status, seats, name, token, checkin_code)
       SELECT e.tenant, e.id, CASE WHEN r = 10 THEN 'walk_in' ELSE 'individual' END,
              CASE WHEN r = 9 THEN 'cancelled' ELSE 'confirmed' END, 1, '报名人' || r,
              md5(e.id || '-' || r), substr(md5('c' || e.id || '-' || r), 1, 16)
       FROM event e CROSS JOIN generate_series(1, 10) r""",
    """INSERT INTO attendee (tenant, event, registration, name, position, active, checked_in_at)
       SELECT r.tenant, r.event, r.id, r.name, 1, r.status = 'confirmed',
              CASE WHEN r.status = 'confirmed' AND e.ends_at < now() AND random() < 0.75 THEN e.starts_at END
       FROM registration r JOIN event e ON e.id = r.event""",
    # --- outreach: 1,000,000 entries by every organisation over 24 months
    """CREATE TEMP TABLE everyone AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM tenant""",
    """INSERT INTO outreach_entry (tenant, day, kind, quantity)
       SELECT o.id, current_date - (random() * 730)::int,
              (ARRAY['materials','cards','network_group','visit','lecture','other'])[1 + g % 6], 1 + (random() * 200)::int
       FROM generate_series(1, 1000000) g JOIN everyone o ON o.n = 1 + (g::bigint * 104729) % (SELECT count(*) FROM everyone)""",
    # --- feedback: 200,000 items; most answered, some late, some still open, one in ten escalated
    """INSERT INTO feedback_item (tenant, origin, code, secret_salt, secret_hash, category, message, status,
                                  received_at, first_due_at, due_at, first_reply_at, answered_at, escalations)
       SELECT o.id, o.id, 'B' || lpad(x.g::text, 8, '0'), 's', 'h',
              (ARRAY['wage_arrears','labour_contract','social_insurance','working_hours','dismissal','occupational_injury','other'])[1 + x.g % 7],
              '压测意见', CASE WHEN x.reply IS NULL THEN (ARRAY['new','acknowledged','in_progress'])[1 + x.g % 3] ELSE 'answered' END,
              x.at, x.at + interval '7 days', x.at + interval '7 days', x.reply, x.reply, CASE WHEN x.g % 10 = 0 THEN 1 ELSE 0 END
       FROM (SELECT a.g, a.at, CASE WHEN a.r < 0.85 THEN a.at + random() * interval '10 days' END AS reply
             FROM (SELECT g, now() - random() * interval '730 days' AS at, random() AS r
                   FROM generate_series(1, 200000) g) a) x
       JOIN orgs o ON o.n = 1 + (x.g::bigint * 15485863) % (SELECT count(*) FROM orgs)""",
    "ANALYZE",
]


async def main() -> None:
    import asyncpg

    from app.accounts.service import add_membership, create_user
    from tenants.tables import Tenant

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        for statement in SQL:
            await conn.execute(statement)
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in (
            "tenant", "enterprise", "chamber", "event", "registration", "attendee", "outreach_entry", "feedback_item")}
    finally:
        await conn.close()
    city = await Tenant.select(Tenant.id).where(Tenant.slug == "city").first()
    d01 = await Tenant.select(Tenant.id).where(Tenant.slug == "d01").first()
    await add_membership(await create_user(CITY_ADMIN, PASSWORD, "市级管理员"), city["id"], "admin")
    await add_membership(await create_user(DISTRICT_ADMIN, PASSWORD, "区镇管理员"), d01["id"], "admin")
    print(json.dumps({"counts": counts, "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
