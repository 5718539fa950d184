"""The register in the city console: /city/registry (lists, import with preview, export, template)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from app.audit.service import client_ip, record
from app.city.console import city_scope
from app.core.forms import Form
from app.core.render import flash, render
from app.db import atomic
from app.i18n import gettext as _
from app.registry import service, sheets
from app.registry.service import Register
from tenants.guards import city_access


def _register(key: str) -> Register:
    register = service.get_register(key)
    if register is None:
        raise NotFoundException()
    return register


@get("/city/registry", opt=city_access("staff"), name="registry_overview")
async def registry_overview(request: Request) -> Response:
    with city_scope(request):
        summary = await service.district_summary()
    totals = {k: sum(r[k] for r in summary) for k in ("enterprises", "in_scope", "chambers")}
    return render(request, "registry/overview.html",
                  {"summary": summary, "totals": totals, "registers": service.REGISTERS})


@get("/city/registry/{register:str}", opt=city_access("staff"), name="registry_list")
async def registry_list(request: Request, register: FromPath[str], district: FromQuery[str] = "",
                        q: FromQuery[str] = "", missing: FromQuery[str] = "", page: FromQuery[str] = "1") -> Response:
    reg = _register(register)
    page_no = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    q = q.strip()[:100]
    with city_scope(request):
        rows, total = await service.list_rows(reg, district=district, q=q, missing=bool(missing), page=page_no)
        known = sorted(await service.known_districts())
    pages = max(1, -(-total // service.PAGE_SIZE))
    return render(
        request,
        "registry/list.html",
        {"reg": reg, "rows": rows, "total": total, "page": page_no, "pages": pages, "districts": known,
         "filters": {"district": district, "q": q, "missing": bool(missing)}},
        block="results",
    )


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content=content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


def _format(value: str) -> str:
    return "csv" if value == "csv" else "xlsx"


@get("/city/registry/{register:str}/export", opt=city_access("staff"), name="registry_export")
async def registry_export(request: Request, register: FromPath[str], format: FromQuery[str] = "xlsx",
                          district: FromQuery[str] = "") -> Response:
    reg = _register(register)
    with city_scope(request):
        header, rows = await service.export_rows(reg, district or None)
    stem = f"tiaojie-{reg.key}-{service._now().strftime('%Y%m%d')}"
    return _download(*service.file_response_parts(reg, header, rows, _format(format), stem))


@get("/city/registry/{register:str}/template", opt=city_access("staff"), name="registry_template")
async def registry_template(request: Request, register: FromPath[str], format: FromQuery[str] = "xlsx") -> Response:
    reg = _register(register)
    header = [str(c.header) for c in reg.columns]
    return _download(*service.file_response_parts(reg, header, [], _format(format), f"tiaojie-{reg.key}-template",
                                                  instructions=True))


# --- import: upload, preview, confirm ----------------------------------------------


def _import_page(request: Request, reg: Register, form: Form, status_code: int = 200) -> Response:
    return render(request, "registry/import.html",
                  {"reg": reg, "form": form, "max_mb": sheets.MAX_BYTES // (1024 * 1024), "max_rows": sheets.MAX_ROWS},
                  status_code=status_code)


@get("/city/registry/{register:str}/import", opt=city_access("admin"), name="registry_import")
async def registry_import(request: Request, register: FromPath[str]) -> Response:
    return _import_page(request, _register(register), Form())


# Files up to 4x the limit are read and refused with a message beside the field; beyond
# that the server stops reading (413) instead of taking in an arbitrarily large body.
@post("/city/registry/{register:str}/import", opt=city_access("admin"), name="registry_upload",
      request_max_body_size=4 * sheets.MAX_BYTES)
async def registry_upload(request: Request, register: FromPath[str]) -> Response:
    reg = _register(register)
    data = await request.form()
    upload = data.get("file")
    form = Form()
    if not isinstance(upload, UploadFile) or not upload.filename:
        form.error("file", _("Choose the file to import."))
        return _import_page(request, reg, form, status_code=422)
    content = await upload.read(sheets.MAX_BYTES + 1)
    filename = upload.filename
    await upload.close()
    try:
        fmt, rows, notes = service.read_upload(reg, content, filename)
    except service.UploadError as exc:
        form.error("file", exc.message)
        return _import_page(request, reg, form, status_code=422)
    with city_scope(request):
        async with atomic():
            token = await service.store_upload(request.scope["user"].id, reg, filename, fmt, rows, notes)
    return Redirect(path=f"/city/registry/{reg.key}/import/{token}", status_code=303)


async def _preview(request: Request, reg: Register, token: str):
    upload = await service.load_upload(token, request.scope["user"].id, reg)
    if upload is None:
        raise NotFoundException()
    return upload


async def _preview_page(request: Request, reg: Register, upload: dict, analysis: service.Analysis,
                  status_code: int = 200) -> Response:
    return render(
        request,
        "registry/preview.html",
        {"reg": reg, "upload": upload, "a": analysis, "columns": {c.key: c for c in reg.columns},
         "new_rows": analysis.new[: service.PREVIEW_LIMIT], "changed_rows": analysis.changed[: service.PREVIEW_LIMIT],
         "errors": analysis.errors[: service.ERROR_LIMIT], "preview_limit": service.PREVIEW_LIMIT,
         "org_names": await _org_names(reg, analysis)},
        status_code=status_code,
    )


async def _org_names(reg: Register, analysis: service.Analysis) -> dict[int, str]:
    from tenants.tables import Tenant

    ids = {r[reg.org_field] for r in analysis.rows if r[reg.org_field]}
    for r in analysis.changed:
        ids |= {old for key, old, _new in r["changes"] if key == reg.org_field and old}
    if not ids:
        return {}
    return {t["id"]: t["name"] for t in await Tenant.select(Tenant.id, Tenant.name).where(Tenant.id.is_in(list(ids)))}


@get("/city/registry/{register:str}/import/{token:str}", opt=city_access("admin"), name="registry_preview")
async def registry_preview(request: Request, register: FromPath[str], token: FromPath[str]) -> Response:
    reg = _register(register)
    with city_scope(request):
        upload = await _preview(request, reg, token)
        analysis = await service.analyse(reg, upload["rows"])
        return await _preview_page(request, reg, upload, analysis)


@post("/city/registry/{register:str}/import/{token:str}", opt=city_access("admin"), name="registry_confirm")
async def registry_confirm(request: Request, register: FromPath[str], token: FromPath[str]) -> Response:
    reg = _register(register)
    user = request.scope["user"]
    with city_scope(request) as city_id:
        upload = await _preview(request, reg, token)
        async with atomic():
            # Checked again against the register as it is now, inside the transaction that writes.
            await service.lock_register(reg)
            analysis = await service.analyse(reg, upload["rows"])
            if analysis.ok:
                counts = await service.apply(reg, analysis)
                await service.discard_upload(token)
                await record(user, "registry.imported", tenant_id=city_id, target=upload["filename"],
                             detail={"register": reg.key, **counts}, ip=client_ip(request))
        if not analysis.ok:
            return await _preview_page(request, reg, upload, analysis, status_code=422)
    flash(request, _("Imported: %(new)s new, %(changed)s updated, %(unchanged)s unchanged.", **counts))
    return Redirect(path=f"/city/registry/{reg.key}", status_code=303)


ROUTES = [
    registry_overview, registry_list, registry_export, registry_template,
    registry_import, registry_upload, registry_preview, registry_confirm,
]
