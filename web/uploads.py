"""A plain-text file sent with a form (a victim's representations, a victim personal
statement): read in memory, never written to disk, never logged and never quoted back.

Local policy: a UTF-8 plain text (.txt) file, holding no more than the characters the service
takes for that text. Starlette keeps an uploaded file in memory up to its spool size (1 MB) and
spills a bigger one to a temporary file, so a request whose body could hold more than
`BODY_LIMIT` is refused before its body is parsed: an upload never reaches the disk."""

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser

from service.contacts import Invalid, Problem

# A file of the longest text the service takes is at most 4 bytes a character (UTF-8): the
# limit holds a file of 20,000 characters (representations, a VPS) with the form's other
# fields, and stays under Starlette's spool size. A text over about 50,000 characters would
# need a higher limit.
BODY_LIMIT = 256 * 1024
DRAIN_LIMIT = 16 * 1024 * 1024  # an oversized body is read and dropped up to this, then cut off
assert MultiPartParser.spool_max_size > BODY_LIMIT
SUFFIX = ".txt"


def _too_long(max_chars: int) -> str:
    return f"The selected file must hold no more than {max_chars:,} characters"


async def oversized(request: Request, name: str, max_chars: int) -> list[Problem]:
    """Before the form is read: a body too big to be only the form (or of unknown size) is
    dropped unread, and the file field's problem returned; nothing else changes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) <= BODY_LIMIT:
        return []
    dropped = 0
    async for chunk in request.stream():  # so the browser gets the answer, not a reset
        dropped += len(chunk)
        if dropped > DRAIN_LIMIT:
            break
    return [Problem(name, _too_long(max_chars))]


async def uploaded_text(data: FormData, name: str, max_chars: int) -> str | None:
    """The text of the file posted as `name` (line breaks as \\n, a UTF-8 byte order mark
    dropped), or None if no file was chosen. Anything else is the field's problem (GOV.UK
    wording), which never quotes the file."""
    upload = data.get(name)
    if not isinstance(upload, UploadFile) or not (upload.filename or upload.size):
        return None
    if not (upload.filename or "").lower().endswith(SUFFIX):
        raise Invalid([Problem(name, "The selected file must be a plain text (.txt) file")])
    most = 4 * max_chars + 3  # a byte order mark and the longest UTF-8 text
    raw = await upload.read(most + 1)
    if len(raw) > most:
        raise Invalid([Problem(name, _too_long(max_chars))])
    if not raw.strip():
        raise Invalid([Problem(name, "The selected file is empty")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid([Problem(name, "The selected file must be saved as UTF-8 text")]) from None
    text = text.replace("\r\n", "\n").strip()
    if len(text) > max_chars:
        raise Invalid([Problem(name, _too_long(max_chars))])
    return text


# The longest text a victim may send in writing: representations and a VPS alike
# (models/representation_repository.py MAX_REPRESENTATION_CHARS, models/parole.py MAX_VPS_CHARS).
MAX_WRITTEN_CHARS = 20_000


async def written(
    request: Request, missing: str, max_chars: int = MAX_WRITTEN_CHARS, not_both: str = ""
) -> str:
    """Words a victim gave in writing, from the posted form: pasted into `text`, or a file
    chosen as `file` (not both). `missing` is the problem when there is neither."""
    data = await request.form()  # parsed once per request and kept on it
    uploaded = await uploaded_text(data, "file", max_chars)
    pasted = data.get("text")
    pasted = pasted.replace("\r\n", "\n").strip() if isinstance(pasted, str) else ""
    if uploaded is not None and pasted:
        raise Invalid([Problem("file", not_both or "Paste the words or choose a file, not both")])
    text = pasted if uploaded is None else uploaded
    if not text:
        raise Invalid([Problem("text", missing)])
    return text
