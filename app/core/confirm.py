"""Ask before destroying: one confirmation step for every delete or remove.

A destructive action is a POST form (``m.danger_button`` in ``templates/macros.html``).
Its route asks first:

    @post("/manage/{slug:str}/hotlines/{hotline_id:str}/delete", ...)
    async def hotline_delete(request, slug, hotline_id):
        row = await get_in_scope(Hotline, hotline_id)
        step = await ask_first(request, Confirmation(
            question=_("Remove the hotline “%(label)s”?", label=row.label),
            consequences=[_("It disappears from your public page ...")],
            confirm_label=_("Remove hotline"),
            back_url=f"/manage/{slug}/hotlines",
        ))
        if step:
            return step
        ...  # now do it

Without JavaScript the button's POST answers with a confirmation page whose form sends the
same POST again with ``confirmed=yes``. With htmx the button's form is swapped, in place,
for the same question (the ``confirm_box`` block of ``templates/confirm.html``); the box
takes the focus, and its confirm button is a plain form post, so what follows (the
redirect and its message, perhaps with an Undo button) is the same with or without
JavaScript. A form that forgets the field is asked, never obeyed at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from litestar import Request, Response

from app.core.render import render, request_path

CONFIRM_FIELD = "confirmed"
CONFIRM_VALUE = "yes"


@dataclass(frozen=True)
class Confirmation:
    question: str  # names the thing: "Remove the hotline “调解咨询电话” (0513-8820 0111)?"
    confirm_label: str  # says the action: "Remove hotline"
    back_url: str  # where Cancel leads
    consequences: list[str] = field(default_factory=list)  # what follows, in sentences
    title: str = ""  # heading of the confirmation page; defaults to the question


async def ask_first(request: Request, confirmation: Confirmation) -> Response | None:
    """None when the request carries the confirmation; else the step that asks for it."""
    data = await request.form()
    if data.get(CONFIRM_FIELD) == CONFIRM_VALUE:
        return None
    action = request_path(request)
    return render(
        request,
        "confirm.html",
        {"confirm": confirmation, "action": action, "box_id": "confirm" + re.sub(r"[^a-zA-Z0-9]+", "-", action),
         "confirm_field": CONFIRM_FIELD, "confirm_value": CONFIRM_VALUE},
        block="confirm_box",
    )
