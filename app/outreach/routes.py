"""Hotlines, information cards and the outreach log: staff pages, public pages, QR scans."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from app.audit.sentences import describe
from app.audit.service import client_ip, record
from app.core import ratelimit
from app.core.confirm import Confirmation, ask_first
from app.core.forms import Form
from app.core.pagecache import serve_cached
from app.core.render import flash, render
from app.db import atomic
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.outreach import counters, service
from app.outreach.tables import ENTRY_KIND_LABELS, Hotline, InfoCard, Metric, OutreachEntry
from app.settings import get_settings
from app.undo import service as undo
from tenants.guards import PUBLIC, city_access, tenant_access
from tenants.scope import get_in_scope
from tenants.tables import KIND_LABELS
from tenants.tree import districts


def _tenant(request: Request) -> dict:
    return request.scope["state"]["tenant"]


async def _audit(request: Request, action: str, target: str, detail: dict | None = None) -> None:
    await record(request.scope["user"], action, tenant_id=_tenant(request)["id"], target=target,
                 detail=detail or {}, ip=client_ip(request))


# How staff read this domain's entries of the audit log (app.audit.sentences).
def _number(detail: dict, names) -> dict:
    from app.core import phones

    return {"number": phones.display(str(detail.get("number", "")))}


def _entry(detail: dict, names) -> dict:
    kind = ENTRY_KIND_LABELS.get(detail.get("kind", ""), "")
    return {"kind": str(kind), "count": detail.get("count", ""), "day": detail.get("day", "")}


describe("hotline.created", _l("%(who)s added the hotline “%(target)s” (%(number)s)."), _number)
describe("hotline.updated", _l("%(who)s changed the hotline “%(target)s” (%(number)s)."), _number)
describe("hotline.deleted", _l("%(who)s removed the hotline “%(target)s” (%(number)s)."), _number)
describe("hotline.restored", _l("%(who)s restored the hotline “%(target)s” (%(number)s)."), _number)
describe("card.created", _l("%(who)s created the information card “%(target)s” (%(state)s)."),
         lambda d, n: {"state": _("published") if d.get("published") else _("draft")})
describe("card.updated", _l("%(who)s saved the information card “%(target)s” (%(state)s)."),
         lambda d, n: {"state": _("published") if d.get("published") else _("draft")})
describe("card.deleted", _l("%(who)s deleted the information card “%(target)s”; its printed QR code still leads here."))
describe("card.restored", _l("%(who)s restored the information card “%(target)s”."))
describe("card.distributed", _l("%(who)s recorded %(count)s copies of the card “%(target)s” as handed out."),
         lambda d, n: {"count": d.get("count", "")})
describe("outreach.recorded", _l("%(who)s recorded outreach: %(kind)s, %(count)s, on %(day)s."), _entry)
describe("outreach.deleted", _l("%(who)s removed the outreach entry %(kind)s, %(count)s, of %(day)s."), _entry)
describe("outreach.restored", _l("%(who)s restored the outreach entry %(kind)s, %(count)s, of %(day)s."), _entry)


def _public_tenant(request: Request) -> dict:
    tenant = request.scope["state"].get("tenant")
    if tenant is None or not tenant["active"]:
        raise NotFoundException()
    return tenant


def public_base(request: Request) -> str:
    settings = get_settings()
    return settings.base_url if settings.base_url_set else str(request.base_url).rstrip("/")


# --- hotlines (staff) ---------------------------------------------------------------


async def _hotlines_page(request: Request, form: Form, status_code: int = 200) -> Response:
    return render(request, "outreach/hotlines.html",
                  {"form": form, "hotlines": await service.hotlines(), "removed": await undo.recently_removed(Hotline)},
                  status_code=status_code)


@get("/manage/{slug:str}/hotlines", opt=tenant_access("staff"), name="outreach_hotlines")
async def hotlines_page(request: Request, slug: FromPath[str]) -> Response:
    form = Form(values={"position": str(await service.next_hotline_position())})
    return await _hotlines_page(request, form)


@post("/manage/{slug:str}/hotlines", opt=tenant_access("staff"), name="outreach_hotline_create")
async def hotline_create(request: Request, slug: FromPath[str]) -> Response:
    form = Form.from_data(await request.form(), service.HOTLINE_FIELDS)
    await service.validate_hotline(form)
    if not form.ok:
        return await _hotlines_page(request, form, status_code=422)
    async with atomic():
        hotline_id = await service.create_hotline(form)
        await _audit(request, "hotline.created", form["label"], {"hotline_id": hotline_id, "number": form["number"]})
    flash(request, _("Hotline “%(label)s” was added.", label=form["label"]))
    return Redirect(path=f"/manage/{slug}/hotlines", status_code=303)


@get("/manage/{slug:str}/hotlines/{hotline_id:str}/edit", opt=tenant_access("staff"), name="outreach_hotline_edit")
async def hotline_edit(request: Request, slug: FromPath[str], hotline_id: FromPath[str]) -> Response:
    row = await get_in_scope(Hotline, hotline_id)
    form = Form(values={k: str(getattr(row, k)) for k in service.HOTLINE_FIELDS})
    return render(request, "outreach/hotline_edit.html", {"form": form, "hotline": row})


@post("/manage/{slug:str}/hotlines/{hotline_id:str}/edit", opt=tenant_access("staff"), name="outreach_hotline_update")
async def hotline_update(request: Request, slug: FromPath[str], hotline_id: FromPath[str]) -> Response:
    row = await get_in_scope(Hotline, hotline_id)
    form = Form.from_data(await request.form(), service.HOTLINE_FIELDS)
    await service.validate_hotline(form, editing_id=row.id)
    if not form.ok:
        return render(request, "outreach/hotline_edit.html", {"form": form, "hotline": row}, status_code=422)
    async with atomic():
        await service.update_hotline(row.id, form)
        await _audit(request, "hotline.updated", form["label"], {"hotline_id": row.id, "number": form["number"]})
    flash(request, _("Hotline “%(label)s” was saved.", label=form["label"]))
    return Redirect(path=f"/manage/{slug}/hotlines", status_code=303)


@post("/manage/{slug:str}/hotlines/{hotline_id:str}/delete", opt=tenant_access("staff"), name="outreach_hotline_delete")
async def hotline_delete(request: Request, slug: FromPath[str], hotline_id: FromPath[str]) -> Response:
    row = await get_in_scope(Hotline, hotline_id)
    step = await ask_first(request, Confirmation(
        question=_("Remove the hotline “%(name)s”?", name=service.hotline_name(row)),
        consequences=[_("It disappears from your public page and from the city's list of all hotlines at once."),
                      _("You can restore it from this page for 7 days.")],
        confirm_label=_("Remove hotline"),
        back_url=f"/manage/{slug}/hotlines",
    ))
    if step:
        return step
    async with atomic():
        removed_id = await service.delete_hotline(row, request.scope["user"].id)
        await _audit(request, "hotline.deleted", row.label, {"hotline_id": row.id, "number": row.number})
    flash(request, _("Hotline “%(label)s” was removed.", label=row.label),
          undo=f"/manage/{slug}/hotlines/restore/{removed_id}")
    return Redirect(path=f"/manage/{slug}/hotlines", status_code=303)


@post("/manage/{slug:str}/hotlines/restore/{removed_hotline_id:int}", opt=tenant_access("staff"),
      name="outreach_hotline_restore")
async def hotline_restore(request: Request, slug: FromPath[str], removed_hotline_id: FromPath[int]) -> Response:
    try:
        async with atomic():
            hotline_id = await service.restore_hotline(removed_hotline_id)
            row = await get_in_scope(Hotline, hotline_id)
            await _audit(request, "hotline.restored", row.label, {"hotline_id": row.id, "number": row.number})
    except undo.UndoError as exc:
        flash(request, _("The hotline could not be restored: %(reason)s", reason=exc.message), "error")
    else:
        flash(request, _("Hotline “%(label)s” is back.", label=row.label))
    return Redirect(path=f"/manage/{slug}/hotlines", status_code=303)


# --- information cards (staff) -----------------------------------------------------


async def _cards_page(request: Request, dist_form: Form | None = None, dist_card: int | None = None,
                      status_code: int = 200) -> Response:
    return render(
        request,
        "outreach/cards.html",
        {"cards": await service.cards(), "deleted": await service.deleted_cards(), "dist_form": dist_form or Form(values={"day": service.today().isoformat()}),
         "dist_card": dist_card, "today": service.today().isoformat()},
        status_code=status_code,
    )


@get("/manage/{slug:str}/cards", opt=tenant_access("staff"), name="outreach_cards")
async def cards_page(request: Request, slug: FromPath[str]) -> Response:
    return await _cards_page(request)


def _card_form_page(request: Request, form: Form, card: InfoCard | None, fit: service.CardFit | None = None,
                    status_code: int = 200) -> Response:
    if fit is None:
        fit = service.card_fit_of_form(form, _tenant(request)["name"])
    return render(request, "outreach/card_form.html", {"form": form, "card": card, "fit": fit},
                  status_code=status_code, block="card_fit")


@get("/manage/{slug:str}/cards/new", opt=tenant_access("staff"), name="outreach_card_new")
async def card_new(request: Request, slug: FromPath[str]) -> Response:
    return _card_form_page(request, service.card_form(), None)


@post("/manage/{slug:str}/cards/fit", opt=tenant_access("staff"), name="outreach_card_fit")
async def card_fit(request: Request, slug: FromPath[str]) -> Response:
    """How much of an A6 card the form's text takes (htmx asks as staff type; nothing is saved)."""
    return _card_form_page(request, service.card_form(await request.form()), None)


@post("/manage/{slug:str}/cards/new", opt=tenant_access("staff"), name="outreach_card_create")
async def card_create(request: Request, slug: FromPath[str]) -> Response:
    form = service.card_form(await request.form())
    fit = service.validate_card(form, _tenant(request)["name"])
    if not form.ok:
        return _card_form_page(request, form, None, fit, status_code=422)
    async with atomic():
        card_id = await service.create_card(form)
        await _audit(request, "card.created", form["title"], {"card_id": card_id, "published": bool(form["published"])})
    flash(request, _("Card “%(title)s” was created.", title=form["title"]))
    return Redirect(path=f"/manage/{slug}/cards", status_code=303)


@get("/manage/{slug:str}/cards/{card_id:str}/edit", opt=tenant_access("staff"), name="outreach_card_edit")
async def card_edit(request: Request, slug: FromPath[str], card_id: FromPath[str]) -> Response:
    card = await service.live_card(card_id)
    return _card_form_page(request, service.card_form(initial=card.to_dict()), card)


@post("/manage/{slug:str}/cards/{card_id:str}/edit", opt=tenant_access("staff"), name="outreach_card_update")
async def card_update(request: Request, slug: FromPath[str], card_id: FromPath[str]) -> Response:
    card = await service.live_card(card_id)
    form = service.card_form(await request.form())
    fit = service.validate_card(form, _tenant(request)["name"])
    if not form.ok:
        return _card_form_page(request, form, card, fit, status_code=422)
    async with atomic():
        await service.update_card(card.id, form)
        await _audit(request, "card.updated", form["title"], {"card_id": card.id, "published": bool(form["published"])})
    if card.published and not form["published"]:
        flash(request, _("Card “%(title)s” was saved as a draft. It is no longer on your public page; printed copies "
                         "still lead to your organisation through their QR code, but their scans are no longer counted.",
                         title=form["title"]))
    else:
        flash(request, _("Card “%(title)s” was saved.", title=form["title"]))
    return Redirect(path=f"/manage/{slug}/cards", status_code=303)


@post("/manage/{slug:str}/cards/{card_id:str}/delete", opt=tenant_access("staff"), name="outreach_card_delete")
async def card_delete(request: Request, slug: FromPath[str], card_id: FromPath[str]) -> Response:
    card = await service.live_card(card_id)
    step = await ask_first(request, Confirmation(
        question=_("Delete the card “%(title)s”?", title=card.title),
        consequences=[_("It leaves your public page and can no longer be printed."),
                      _("Copies already handed out keep working: their QR code leads to your organisation, "
                        "but scans are no longer counted."),
                      _("You can restore it from this page at any time.")],
        confirm_label=_("Delete card"),
        back_url=f"/manage/{slug}/cards",
    ))
    if step:
        return step
    async with atomic():
        await service.delete_card(card.id)
        await _audit(request, "card.deleted", card.title, {"card_id": card.id, "code": card.code})
    flash(request, _("Card “%(title)s” was deleted. Printed copies keep working: their QR code leads to your "
                     "organisation, but scans are no longer counted.", title=card.title),
          undo=f"/manage/{slug}/cards/{card.id}/restore")
    return Redirect(path=f"/manage/{slug}/cards", status_code=303)


@post("/manage/{slug:str}/cards/{card_id:str}/restore", opt=tenant_access("staff"), name="outreach_card_restore")
async def card_restore(request: Request, slug: FromPath[str], card_id: FromPath[str]) -> Response:
    card = await get_in_scope(InfoCard, card_id)
    if card.deleted_at is not None:
        async with atomic():
            await service.restore_card(card.id)
            await _audit(request, "card.restored", card.title, {"card_id": card.id, "code": card.code})
    flash(request, _("Card “%(title)s” is back.", title=card.title))
    return Redirect(path=f"/manage/{slug}/cards", status_code=303)


@post("/manage/{slug:str}/cards/{card_id:str}/distributed", opt=tenant_access("staff"), name="outreach_card_distributed")
async def card_distributed(request: Request, slug: FromPath[str], card_id: FromPath[str]) -> Response:
    card = await service.live_card(card_id)
    form = Form.from_data(await request.form(), service.DISTRIBUTION_FIELDS)
    service.validate_distribution(form)
    if not form.ok:
        return await _cards_page(request, form, card.id, status_code=422)
    async with atomic():
        await service.record_distribution(card.id, form, request.scope["user"].id)
        await _audit(request, "card.distributed", card.title, {"card_id": card.id, "count": int(form["count"])})
    flash(request, ngettext("%(num)s card “%(title)s” recorded as handed out.",
                            "%(num)s cards “%(title)s” recorded as handed out.", int(form["count"]), title=card.title))
    return Redirect(path=f"/manage/{slug}/cards", status_code=303)


# --- public card pages and QR scans ------------------------------------------------


async def _public_card(request: Request, card_id: str) -> InfoCard:
    tenant = _public_tenant(request)
    card = await service.live_card(card_id)
    user = request.scope.get("user")
    is_staff = user is not None and user.role_in(tenant["id"]) in ("staff", "admin")
    if not card.published and not is_staff:
        raise NotFoundException()  # a draft is seen by its staff only
    return card


@get("/o/{slug:str}/cards/{card_id:str}", opt={"access": PUBLIC}, name="outreach_card_print")
async def card_print(request: Request, slug: FromPath[str], card_id: FromPath[str], sheet: FromQuery[str] = "") -> Response:
    async def page() -> Response:
        # Inside the cached part: a draft raises 404 and is never cached, and
        # publishing or editing a card bumps the page cache version.
        card = await _public_card(request, card_id)
        url = f"{public_base(request)}/q/{card.code}"
        data = card.to_dict()
        data["lines"] = [line for line in card.contact_lines.splitlines() if line.strip()]
        return render(
            request,
            "outreach/card_print.html",
            {"org": _public_tenant(request), "card": data, "qr_url": url,
             "qr": service.qr_svg(url, _("QR code: scan to contact %(name)s", name=_public_tenant(request)["name"])),
             "sheet": sheet == "a4", "copies": range(4 if sheet == "a4" else 1), "kinds": KIND_LABELS},
        )

    return await serve_cached(request, page)


@get("/o/{slug:str}/cards/{card_id:str}/qr.png", opt={"access": PUBLIC}, name="outreach_card_png")
async def card_png(request: Request, slug: FromPath[str], card_id: FromPath[str]) -> Response:
    card = await _public_card(request, card_id)
    return Response(
        content=service.qr_png(f"{public_base(request)}/q/{card.code}"),
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="tiaojie-card-{card.code}.png"',
                 "Cache-Control": "private, max-age=300"},
    )


def scan_target(request: Request, slug: str) -> str:
    """The tenant's feedback mailbox when the app has one, else its public page."""
    for route in request.app.routes:
        if route.path.startswith("/o/{slug") and route.path.rstrip("/").endswith("/feedback"):
            return f"/o/{slug}/feedback" + ("/" if route.path.endswith("/") else "")
    return f"/o/{slug}/"


SCANS_COUNTED_PER_ADDRESS = 30  # in SCAN_WINDOW seconds; more still redirect, uncounted
SCAN_WINDOW = 600


async def _scan_counts(request: Request) -> bool:
    """Whether this scan counts: one address cannot inflate a card's figures."""
    try:
        limit = await ratelimit.consume(f"scan:{client_ip(request)}", SCANS_COUNTED_PER_ADDRESS, SCAN_WINDOW)
    except Exception:  # noqa: BLE001 - without Redis nothing is counted anyway
        return True
    return limit.allowed


@get("/q/{code:str}", opt={"access": PUBLIC}, name="outreach_scan")
async def scan(request: Request, code: FromPath[str]) -> Response:
    """A printed QR code always leads somewhere useful: the organisation's mailbox or page,
    also after its card was unpublished or deleted (then the scan is not counted); for a
    deactivated organisation, the page of its nearest active parent, which says why."""
    card = await service.card_for_scan(code)
    if card is None:
        raise NotFoundException()
    if not card["active"]:
        heir = await service.nearest_active_ancestor(card["tenant"])
        target = f"/o/{heir['slug']}/?closed={card['slug']}" if heir else "/"
    else:
        target = scan_target(request, card["slug"])
        if card["counts"] and await _scan_counts(request):
            await counters.count_hit(card["tenant"], Metric.qr_scan.value, card["id"])
    return Redirect(path=target, status_code=303, headers={"Cache-Control": "no-store"})


# --- all hotlines (public) -----------------------------------------------------------


@get("/hotlines", opt={"access": PUBLIC}, name="outreach_all_hotlines")
async def all_hotlines(request: Request, district: FromQuery[str] = "") -> Response:
    async def page() -> Response:
        return render(
            request,
            "outreach/all_hotlines.html",
            {"groups": await service.all_public_hotlines(district.strip()[:100]), "districts": await districts(),
             "district": district, "kinds": KIND_LABELS},
            block="hotline_results",
        )

    return await serve_cached(request, page)


# --- the outreach log and figures ------------------------------------------------------


async def _outreach_page(request: Request, form: Form, status_code: int = 200) -> Response:
    months = service.last_months(12)
    figures = await service.monthly_figures(months)
    columns = service.figure_columns()
    labels = dict(columns)
    return render(
        request,
        "outreach/outreach.html",
        {"form": form, "entries": await service.recent_entries(), "figures": figures, "columns": columns,
         "charts": [service.chart(figures, k, labels[k]) for k in service.CHART_KEYS],
         "entry_kinds": ENTRY_KIND_LABELS, "today": service.today().isoformat(),
         "removed": await undo.recently_removed(OutreachEntry)},
        status_code=status_code,
    )


@get("/manage/{slug:str}/outreach", opt=tenant_access("staff"), name="outreach_log")
async def outreach_page(request: Request, slug: FromPath[str]) -> Response:
    return await _outreach_page(request, Form(values={"day": service.today().isoformat(), "kind": "materials"}))


@post("/manage/{slug:str}/outreach", opt=tenant_access("staff"), name="outreach_entry_create")
async def entry_create(request: Request, slug: FromPath[str]) -> Response:
    form = Form.from_data(await request.form(), service.ENTRY_FIELDS)
    service.validate_entry(form)
    if not form.ok:
        return await _outreach_page(request, form, status_code=422)
    async with atomic():
        entry_id = await service.create_entry(form, request.scope["user"].id)
        await _audit(request, "outreach.recorded", str(ENTRY_KIND_LABELS[form["kind"]]),
                     {"entry_id": entry_id, "kind": form["kind"], "count": int(form["count"]), "day": form["day"]})
    flash(request, _("The outreach was recorded."))
    return Redirect(path=f"/manage/{slug}/outreach", status_code=303)


@post("/manage/{slug:str}/outreach/{entry_id:str}/delete", opt=tenant_access("staff"), name="outreach_entry_delete")
async def entry_delete(request: Request, slug: FromPath[str], entry_id: FromPath[str]) -> Response:
    entry = await get_in_scope(OutreachEntry, entry_id)
    step = await ask_first(request, Confirmation(
        question=_("Remove the entry “%(name)s”?", name=service.entry_name(entry)),
        consequences=[_("Its count leaves the monthly figures and the city's outreach report."),
                      _("You can restore it from this page for 7 days.")],
        confirm_label=_("Remove entry"),
        back_url=f"/manage/{slug}/outreach",
    ))
    if step:
        return step
    async with atomic():
        removed_id = await service.delete_entry(entry, request.scope["user"].id)
        await _audit(request, "outreach.deleted", str(ENTRY_KIND_LABELS[entry.kind]),
                     {"entry_id": entry.id, "kind": entry.kind, "count": entry.quantity, "day": str(entry.day)})
    flash(request, _("The entry was removed."), undo=f"/manage/{slug}/outreach/restore/{removed_id}")
    return Redirect(path=f"/manage/{slug}/outreach", status_code=303)


@post("/manage/{slug:str}/outreach/restore/{removed_entry_id:int}", opt=tenant_access("staff"),
      name="outreach_entry_restore")
async def entry_restore(request: Request, slug: FromPath[str], removed_entry_id: FromPath[int]) -> Response:
    try:
        async with atomic():
            entry = await get_in_scope(OutreachEntry, await service.restore_entry(removed_entry_id))
            await _audit(request, "outreach.restored", str(ENTRY_KIND_LABELS[entry.kind]),
                         {"entry_id": entry.id, "kind": entry.kind, "count": entry.quantity, "day": str(entry.day)})
    except undo.UndoError as exc:
        flash(request, _("The entry could not be restored: %(reason)s", reason=exc.message), "error")
    else:
        flash(request, _("The entry is back."))
    return Redirect(path=f"/manage/{slug}/outreach", status_code=303)


@get("/city/outreach", opt=city_access("staff"), name="city_outreach")
async def city_outreach(request: Request, month: FromQuery[str] = "") -> Response:
    months = service.last_months(12)
    period = months if month not in months else [month]
    data = await service.city_figures(period)
    columns = service.figure_columns()
    labels = dict(columns)
    monthly = data["monthly"] if len(period) > 1 else (await service.city_figures(months))["monthly"]
    return render(
        request,
        "outreach/city.html",
        {**data, "columns": columns, "months": months, "month": month if month in months else "",
         "charts": [service.chart(monthly, k, labels[k]) for k in service.CHART_KEYS]},
    )


ROUTES = [
    hotlines_page, hotline_create, hotline_edit, hotline_update, hotline_delete, hotline_restore,
    cards_page, card_new, card_fit, card_create, card_edit, card_update, card_delete, card_restore, card_distributed,
    card_print, card_png, scan, all_hotlines,
    outreach_page, entry_create, entry_delete, entry_restore, city_outreach,
]
