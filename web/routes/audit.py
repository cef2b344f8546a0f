"""A case's audit trail for the auditor: the hash chain checked, its entries, and the export
the CLI writes to download (service/audit_trail.py). Read-only: nothing here changes a case."""

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.audit_trail import audit_trail, export_text
from web.pages import actor_of, page

router = APIRouter()


@router.get("/cases/{case_ref}/audit", response_class=HTMLResponse)
async def trail(request: Request, case_ref: str) -> Response:
    lines, report = audit_trail(request.app.state.engine, actor_of(request), case_ref)
    entries = [{**line, "at": datetime.fromisoformat(line["at"])} for line in lines]
    context = {"case_ref": case_ref, "entries": entries, "report": report, "nav": "cases"}
    return page(request, "audit.html", context)


@router.get("/cases/{case_ref}/audit.jsonl")
async def download(request: Request, case_ref: str) -> Response:
    """The same JSON Lines as `vcs audit-export --out`; the file is named by the case only."""
    lines, _ = audit_trail(request.app.state.engine, actor_of(request), case_ref)
    return Response(
        export_text(lines),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="{case_ref}-audit.jsonl"',
            "Cache-Control": "no-store",
        },
    )
