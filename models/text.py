"""Free text from VLOs: refused when it holds control characters (a NUL byte, terminal escape
codes), which can corrupt letters, logs and PostgreSQL text columns alike."""

import re

# Everything below space, and DEL, except tab and newline (allowed where text may run on).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")
# What Python makes of bytes that are not UTF-8 (in argv, or a file read leniently): they
# cannot be stored, so they are refused here rather than failing in the database.
_NOT_UTF8 = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    if _NOT_UTF8.search(value):
        raise ValueError("is not UTF-8 text: retype it, or save the file as UTF-8")
    pattern = _CONTROL if multiline else _CONTROL_ONE_LINE
    if pattern.search(value):
        kind = "control characters" if multiline else "line breaks or control characters"
        raise ValueError(f"must not contain {kind}")
    return value
