"""Network reports: the maths against a hand-computed fixture, the pre-aggregated figures and
their refresh, exports, and who sees which district's figures."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.city import reports
from app.city.jobs import roll_up_reports
from app.city.tables import ReportFigure, ReportMonth
from app.events import service as events
from app.events.tables import Attendee, Event, Registration
from app.feedback.tables import FeedbackItem
from app.outreach.tables import OutreachEntry
from tenants.scope import tenant_scope
from tests.support import login

SH = ZoneInfo("Asia/Shanghai")
MARCH_APRIL = reports.Period("2026-03", "2026-04")


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


async def _event(tenant_id, starts, status="published", hours=2):
    with tenant_scope(tenant_id):
        e = Event(tenant=tenant_id, kind="seminar", title="t", starts_at=starts, ends_at=starts + timedelta(hours=hours),
                  venue="v", capacity=100, status=status)
        await e.save()
        return e.id


async def _registration(tenant_id, event_id, kind="individual", status="confirmed", seats=1, present=0):
    """A registration with ``seats`` attendees, the first ``present`` of them checked in."""
    with tenant_scope(tenant_id):
        r = Registration(tenant=tenant_id, event=event_id, kind=kind, status=status, seats=seats, name="n",
                         token=events.new_token(), checkin_code=events.new_checkin_code())
        await r.save()
        for i in range(seats):
            await Attendee(tenant=tenant_id, event=event_id, registration=r.id, name=f"p{i}", position=i + 1,
                           active=status == "confirmed",
                           checked_in_at=sh(2026, 3, 10, 9) if i < present else None).save()


async def _entry(tenant_id, day, kind, quantity):
    with tenant_scope(tenant_id):
        await OutreachEntry(tenant=tenant_id, day=day, kind=kind, quantity=quantity).save()


_codes = iter(range(10_000))


async def _item(origin, received, due, reply=None, status="answered", escalations=0, holder=None):
    n = next(_codes)
    holder = holder or origin
    with tenant_scope(holder):
        await FeedbackItem(tenant=holder, origin=origin, code=f"R{n:08d}", secret_salt="s", secret_hash="h",
                           category="wage_arrears", message="m", status=status, received_at=received,
                           first_due_at=due, due_at=due, first_reply_at=reply, escalations=escalations).save()


@pytest.fixture
async def network(world):
    from datetime import date

    t = {k: v["id"] for k, v in world.tenants.items()}
    # Events (甲镇 = district a and its enterprise, 乙镇 = district b)
    e1 = await _event(t["a"], sh(2026, 3, 10, 9))
    await _registration(t["a"], e1, present=1)                       # registered 1, attended 1
    await _registration(t["a"], e1)                                  # registered 1, a no-show
    await _registration(t["a"], e1, kind="group", seats=3, present=2)  # registered 3, attended 2
    await _registration(t["a"], e1, kind="walk_in", present=1)        # attended 1, not registered ahead
    await _registration(t["a"], e1, status="cancelled")               # nothing
    await _registration(t["a"], e1, status="waitlisted")              # nothing
    await _event(t["ent_a"], sh(2026, 3, 31, 23, 30))                 # March in Shanghai, held
    e3 = await _event(t["b"], sh(2026, 4, 1, 0, 30), status="completed")  # still March in UTC: April here
    await _registration(t["b"], e3, present=1)
    e4 = await _event(t["b"], sh(2026, 4, 10, 9), status="cancelled")
    await _registration(t["b"], e4, present=1)                        # a cancelled event counts nothing
    await _event(t["a"], sh(2026, 4, 12, 9), status="draft")          # never held
    # Outreach
    await _entry(t["a"], date(2026, 3, 5), "materials", 200)
    await _entry(t["a"], date(2026, 3, 20), "visit", 3)
    await _entry(t["a"], date(2026, 4, 1), "cards", 50)
    await _entry(t["ent_a"], date(2026, 3, 31), "materials", 100)
    await _entry(t["union"], date(2026, 4, 15), "lecture", 1)        # city level
    await _entry(t["city"], date(2026, 2, 28), "materials", 999)     # before the period
    # Feedback, counted where it was sent, in the month it arrived
    await _item(t["a"], sh(2026, 3, 2, 10), sh(2026, 3, 9, 18), sh(2026, 3, 5, 10))   # in time
    await _item(t["a"], sh(2026, 3, 3, 10), sh(2026, 3, 10, 18), sh(2026, 3, 12, 10))  # answered late: overdue
    await _item(t["ent_a"], sh(2026, 3, 4, 10), sh(2026, 3, 11, 18), None, "in_progress", 1,
                holder=t["a"])                                                          # overdue, escalated
    await _item(t["ent_a"], sh(2026, 3, 5, 10), sh(2026, 3, 12, 18), None, "closed")   # closed unanswered
    await _item(t["b"], sh(2026, 4, 30, 20), sh(2026, 5, 8, 18), sh(2026, 5, 6, 10))   # in time
    await _item(t["b"], sh(2026, 4, 1, 1), datetime.now(timezone.utc) + timedelta(days=30), None, "new")  # waiting
    await _item(t["a"], sh(2026, 2, 27, 10), sh(2026, 3, 6, 18), None, "new")          # before the period
    return world


def _row(rows, key, value):
    return next(r for r in rows if r[key] == value)


MAIN = ["events_held", "registered", "attended", "outreach_entries", "feedback_received", "feedback_in_time",
        "feedback_overdue", "feedback_escalated"]


def _main(r):
    return [r[k] for k in MAIN]


async def test_report_matches_the_hand_computed_figures(network):
    data = await reports.network_report(MARCH_APRIL, districts=["甲镇", "乙镇"])
    assert [r["district"] for r in data["by_district"]] == ["乙镇", "甲镇", ""]  # by name, city level last
    #                                               events reg att outreach recv in_time overdue escalated
    assert _main(_row(data["by_district"], "district", "甲镇")) == [2, 5, 4, 4, 4, 1, 2, 1]
    assert _main(_row(data["by_district"], "district", "乙镇")) == [1, 1, 1, 0, 2, 1, 0, 0]
    assert _main(_row(data["by_district"], "district", "")) == [0, 0, 0, 1, 0, 0, 0, 0]
    assert _main(data["total"]) == [3, 6, 5, 5, 6, 2, 2, 1]
    assert data["total"]["in_time_share"] == 33
    assert _row(data["by_district"], "district", "甲镇")["in_time_share"] == 25
    assert [r["month"] for r in data["by_month"]] == ["2026-03", "2026-04"]
    assert _main(data["by_month"][0]) == [2, 5, 4, 3, 4, 1, 2, 1]
    assert _main(data["by_month"][1]) == [1, 1, 1, 2, 2, 1, 0, 0]
    jia_march = next(r for r in data["detail"] if r["month"] == "2026-03" and r["district"] == "甲镇")
    assert jia_march["outreach_materials"] == 300 and jia_march["outreach_visit"] == 3
    jia_april = next(r for r in data["detail"] if r["month"] == "2026-04" and r["district"] == "甲镇")
    assert _main(jia_april) == [0, 0, 0, 1, 0, 0, 0, 0] and jia_april["outreach_cards"] == 50
    assert data["total"]["outreach_lecture"] == 1 and data["total"]["outreach_materials"] == 300
    assert data["training"] is True
    assert data["total"]["training_required"] == 0  # no training in the fixture: nothing required, nothing done


async def test_training_counts_people_trained_where_and_when_they_reached_the_hours(network, monkeypatch):
    """The city assigns 2 hours to 甲镇 (3 people, due in March) and 乙镇 (2 people, due in May); 甲镇
    passes it down to its enterprise (2 people, not counted again). Hand-computed: March 甲镇 trained 2
    (one reached 2 h on 2 March after 1 h in February; the enterprise's one on 20 March) of 3 required;
    a failed attendance counts nothing; April 乙镇 trained 1 of 0 due that month."""
    from datetime import date

    from app.training import clock
    from app.training.reports import monthly_completion
    from tests.training.helpers import assign, assignment_of, complete, make_programme, nominate

    monkeypatch.setattr(clock, "now", lambda: sh(2026, 6, 1, 10))
    t = {k: v["id"] for k, v in network.tenants.items()}
    programme = await make_programme(t["city"], hours="2")
    await assign(t["city"], programme, [t["a"]], due=date(2026, 3, 20), required=3)
    await assign(t["city"], programme, [t["b"]], due=date(2026, 5, 10), required=2)
    a_assignment = await assignment_of(t["a"], programme)
    await assign(t["a"], programme, [t["ent_a"]], due=date(2026, 3, 15), required=2, parent={"id": a_assignment})
    ent_assignment = await assignment_of(t["ent_a"], programme)
    b_assignment = await assignment_of(t["b"], programme)
    first = await nominate(t["a"], a_assignment, "甲一")
    await complete(t["a"], a_assignment, first, hours="1", day="2026-02-25")
    await complete(t["a"], a_assignment, first, hours="1", day="2026-03-02")
    failed = await nominate(t["a"], a_assignment, "甲二")
    await complete(t["a"], a_assignment, failed, hours="2", day="2026-03-05", result="failed")
    worker = await nominate(t["ent_a"], ent_assignment, "企一")
    await complete(t["ent_a"], ent_assignment, worker, hours="2", day="2026-03-20")
    yi = await nominate(t["b"], b_assignment, "乙一")
    await complete(t["b"], b_assignment, yi, hours="3", day="2026-04-03")

    march = await monthly_completion(reports.month_start("2026-03"), reports.month_start("2026-04"))
    assert sorted(march) == sorted([(t["a"], 1, 3), (t["ent_a"], 1, 0)])
    april = await monthly_completion(reports.month_start("2026-04"), reports.month_start("2026-05"))
    assert april == [(t["b"], 1, 0)]
    await reports.refresh_month("2026-03")
    await reports.refresh_month("2026-04")
    data = await reports.network_report(MARCH_APRIL, districts=["甲镇", "乙镇"])
    jia = _row(data["by_district"], "district", "甲镇")
    assert (jia["training_completed"], jia["training_required"], jia["training_share"]) == (2, 3, 67)
    yi_row = _row(data["by_district"], "district", "乙镇")
    assert (yi_row["training_completed"], yi_row["training_required"]) == (1, 0)


async def test_a_district_and_the_city_level_on_their_own(network):
    yi = await reports.network_report(MARCH_APRIL, "乙镇")
    assert [r["district"] for r in yi["by_district"]] == ["乙镇"]
    assert _main(yi["total"]) == [1, 1, 1, 0, 2, 1, 0, 0]
    city = await reports.network_report(MARCH_APRIL, reports.CITY_LEVEL)
    assert _main(city["total"]) == [0, 0, 0, 1, 0, 0, 0, 0]


async def test_figures_are_pre_aggregated_and_the_current_month_is_refreshed(network):
    from datetime import date

    a = network.tenants["a"]["id"]
    await reports.network_report(MARCH_APRIL)
    assert {r["month"] for r in await ReportMonth.select(ReportMonth.month)} == {"2026-03", "2026-04"}
    # A past month is read from the stored figures: a late entry shows after the roll-up.
    await _entry(a, date(2026, 3, 6), "visit", 1)
    assert (await reports.network_report(MARCH_APRIL))["total"]["outreach_entries"] == 5
    await reports.refresh_month("2026-03")
    assert (await reports.network_report(MARCH_APRIL))["total"]["outreach_entries"] == 6
    # The current month: recounted on a page view once its figures are older than FRESH_SECONDS.
    now = datetime.now(timezone.utc)
    this = reports.current_month(now)
    period = reports.Period(this, this)
    assert (await reports.network_report(period, now=now))["total"]["outreach_entries"] == 0
    await _entry(a, now.astimezone(SH).date(), "visit", 1)
    assert (await reports.network_report(period, now=now))["total"]["outreach_entries"] == 0
    later = now + timedelta(seconds=reports.FRESH_SECONDS + 1)
    assert (await reports.network_report(period, now=later))["total"]["outreach_entries"] == 1


async def test_the_worker_rolls_up_this_month_and_the_last(network):
    now = datetime.now(timezone.utc)
    result = await roll_up_reports({})
    this = reports.current_month(now)
    assert result["months"] == [reports.add_months(this, -1), this]
    assert {r["month"] for r in await ReportMonth.select(ReportMonth.month)} == set(result["months"])
    # March was not rolled up by the cron: nothing stored for it yet.
    assert not await ReportFigure.exists().where(ReportFigure.month == "2026-03")


def test_periods_are_made_sensible():
    now = datetime(2026, 11, 28, 3, tzinfo=timezone.utc)
    assert reports.period_from("", "", now) == reports.Period("2025-12", "2026-11")
    assert reports.period_from("2026-05", "2026-02", now) == reports.Period("2026-02", "2026-05")
    assert reports.period_from("2020-01", "2027-01", now) == reports.Period("2023-12", "2026-11")  # at most 36
    assert reports.period_from("garbage", "2026-13", now) == reports.Period("2025-12", "2026-11")
    assert reports.months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


async def test_city_page_tables_filters_and_htmx(client, network):
    await login(client, network.users["city_staff"])
    page = await client.get("/city/reports?from=2026-03&to=2026-04")
    assert page.status_code == 200
    html = page.text
    assert 'id="report-by-district"' in html and 'id="report-by-month"' in html
    assert "/city/reports/export?from=2026-03&amp;to=2026-04&amp;format=xlsx" in html
    assert "/city/reports/export?from=2026-03&amp;to=2026-04&amp;format=csv" in html
    assert "/city/reports?from=2026-03&amp;to=2026-04&amp;district=%E7%94%B2%E9%95%87" in html  # a district's link
    assert "—" in html  # the training share when nothing was required
    part = await client.get("/city/reports?from=2026-03&to=2026-04&district=乙镇", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<div id="report-results">') and "<html" not in part.text
    assert 'id="report-by-district"' not in part.text  # one district: by month only
    # An unknown district is the whole city, not an error.
    assert (await client.get("/city/reports?district=nowhere")).status_code == 200


async def test_csv_export_has_the_figures_by_month_and_district(client, network):
    await login(client, network.users["city_staff"])
    resp = await client.get("/city/reports/export?from=2026-03&to=2026-04&format=csv")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert 'filename="tiaojie-network-report-2026-03-2026-04.csv"' in resp.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["Month", "District / town / street", "Events held"]
    assert header[-2:] == ["Training completed", "Training required"]
    by_key = {(r[0], r[1]): dict(zip(header, r)) for r in rows[1:]}
    assert len(by_key) == 2 * 3  # two months × (two districts and city level)
    jia = by_key[("2026-03", "甲镇")]
    assert (jia["Events held"], jia["Registered ahead"], jia["Attended"], jia["Feedback received"],
            jia["Answered within the deadline"], jia["Overdue"], jia["Escalated"]) == ("2", "5", "4", "4", "1", "2", "1")
    assert jia["Materials distributed"] == "300" and jia["Training completed"] == "0"
    assert by_key[("2026-04", "City level")]["Outreach activities"] == "1"


async def test_xlsx_export_has_three_sheets(client, network):
    import openpyxl

    await login(client, network.users["city_admin"])
    resp = await client.get("/city/reports/export?from=2026-03&to=2026-04&format=xlsx")
    assert resp.status_code == 200 and resp.content.startswith(b"PK")
    book = openpyxl.load_workbook(io.BytesIO(resp.content), read_only=True)
    assert book.sheetnames == ["By district", "By month", "By month and district"]
    districts = [list(r) for r in book["By district"].iter_rows(values_only=True)]
    assert districts[0][:2] == ["District / town / street", "Events held"]
    assert districts[1][:9] == ["乙镇", 1, 1, 1, 0, 2, 1, 0, 0]
    assert districts[2][:9] == ["甲镇", 2, 5, 4, 4, 4, 1, 2, 1]
    assert districts[-1][:9] == ["Total", 3, 6, 5, 5, 6, 2, 2, 1]
    months = [list(r) for r in book["By month"].iter_rows(values_only=True)]
    assert [r[0] for r in months[1:]] == ["2026-03", "2026-04", "Total"]
    book.close()


async def test_a_district_center_sees_its_own_district_only(client, network):
    await login(client, network.users["a_admin"])
    page = await client.get("/manage/district-a/reports?from=2026-03&to=2026-04")
    assert page.status_code == 200
    assert "甲镇" in page.text and 'id="report-by-district"' not in page.text
    assert 'name="district"' not in page.text  # no district to choose
    resp = await client.get("/manage/district-a/reports/export?from=2026-03&to=2026-04&format=csv&district=乙镇")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert {r[1] for r in rows[1:]} == {"甲镇"}  # the district parameter is ignored
    assert [r[2] for r in rows[1:]] == ["2", "0"]  # events held in March, April
    # Another district's report, and the city's, are not theirs.
    assert (await client.get("/manage/district-b/reports")).status_code == 404
    assert (await client.get("/city/reports")).status_code == 404
    assert (await client.get("/city/reports/export?format=csv")).status_code == 404


async def test_staff_and_enterprises_have_no_district_report(client, network):
    await login(client, network.users["a_staff"])
    assert (await client.get("/manage/district-a/reports")).status_code == 403
    await login(client, network.users["ent_a_admin"])
    assert (await client.get("/manage/ent-a/reports")).status_code == 404
