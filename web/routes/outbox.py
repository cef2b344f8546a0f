"""The letters outbox, for the admin team: what is waiting to be posted, a print-ready PDF of
one letter or of those chosen, and marking them posted."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.outbox import mark_posted, print_letters, waiting
from service.queries import NotFound
from web.pages import actor_of, page, verified_form

router = APIRouter()


def pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@router.get("/outbox", response_class=HTMLResponse)
async def outbox(request: Request) -> Response:
    actor = actor_of(request)
    letters = waiting(request.app.state.engine, actor)
    marked = request.session.pop("marked", None)
    return page(request, "outbox.html", {"letters": letters, "marked": marked, "nav": "outbox"})


@router.get("/outbox/letters/{letter_id}.pdf")
async def one_letter(request: Request, letter_id: int) -> Response:
    actor = actor_of(request)
    return pdf(print_letters(request.app.state.engine, actor, [letter_id]), f"letter-{letter_id}")


@router.post("/outbox")
async def act_on_chosen(request: Request) -> Response:
    actor = actor_of(request)
    form = await verified_form(request)
    chosen = [int(v) for v in form.getlist("letter") if isinstance(v, str) and v.isdigit()]
    engine = request.app.state.engine
    if not chosen:
        letters = waiting(engine, actor)
        error = "Select at least one letter"
        return page(
            request, "outbox.html", {"letters": letters, "error": error, "nav": "outbox"}, 400
        )
    if form.get("do") == "print":
        return pdf(print_letters(engine, actor, chosen), "letters")
    if form.get("do") == "posted":
        request.session["marked"] = mark_posted(engine, actor, chosen)
        return RedirectResponse("/outbox", status_code=303)
    raise NotFound("no such outbox action")
