"""Plain English for the engine's words on the console's pages: a vocabulary value ("opted_in",
"sch15_violent") as a caseworker would say it, and a line the engine wrote ("task_opened:
task=5 kind=offer_scheme due_on=2026-07-13", a confirmation with an ISO date) with its dates
as days and its codes as words. IDs, kinds and dates only ever reach these: no personal data."""

import re
from datetime import date

# Values whose words alone would not read plainly (the rest: underscores as spaces).
LABELS = {
    "ipp": "Imprisonment for public protection (IPP)",
    "detention_hmp": "Detention at His Majesty's pleasure",
    "detention_s250": "Detention under Sentencing Code s 250",
    "dto": "Detention and training order",
    "suspended": "Suspended sentence order",
    "community": "Community order",
    "extended": "Extended determinate sentence",
    "life": "Life imprisonment",
    "sch15_violent": "Violent offence (CJA 2003 Sch 15 Part 1)",
    "sch15_sexual": "Sexual offence (CJA 2003 Sch 15 Part 2)",
    "soa2003_notification": "Sex offender notification (SOA 2003 Part 2)",
    "child_offence": "Offence against a child (CJCSA 2000 Part 2)",
    "non_residence": "Non-residence",
    "all_key_stages": "At every key stage",
    "annual": "Once a year, and at release",
    "release_only": "Release only",
    "open_conditions": "Moved to open conditions",
    "opt_in_confirmed": "Opt-in confirmed",
    "opt_out_confirmed": "Opt-out confirmed",
    "cto": "Community treatment order",
    "vps_received": "VPS received",
    "vps_received_late": "VPS received late",
    "read_vps_granted": "Reading the VPS allowed",
    "read_vps_refused": "Reading the VPS refused",
    "vlo": "VLO",
    "senior_vlo": "Senior VLO",
    "vlo_manager": "VLO manager",
    "admin": "Admin team",
    "auditor": "Auditor",
    "dvcva": "DVCVA",
}
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_FIELD = re.compile(r"(?:^|(?<=\s))([a-z][a-z_]*)=")
_STAGE = re.compile(r"^stage:(\w+)")


def label(value: object) -> str:
    """A vocabulary value (an enum or its string) as words, capitalised."""
    text = str(getattr(value, "value", value))
    words = LABELS.get(text, text.replace("_", " "))
    return words[:1].upper() + words[1:]


def _day(match: re.Match[str]) -> str:
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).strftime("%-d %B %Y")
    except ValueError:
        return match[0]


def _code(match: re.Match[str]) -> str:
    words = LABELS.get(match[0], match[0].replace("_", " "))
    return words if words.isupper() else words[:1].lower() + words[1:]


def plain(line: str) -> str:
    """A line the engine wrote, readable: ISO dates as days, codes as words, "key=value" as
    "key value" separated by commas, list brackets dropped."""
    text = _STAGE.sub(lambda m: "now " + m[1], line)
    text = re.sub(r"\[([^\]]*)\]", r"\1", text)
    text = re.sub(r"(?<=[^:\s])\s+(?=[a-z][a-z_]*=)", ", ", text)
    text = _FIELD.sub(lambda m: m[1] + " ", text)
    text = _ISO_DAY.sub(_day, text)
    text = _CODE.sub(_code, text)
    text = re.sub(r"(?<![-\w])handoff\b(?!-)", "hand-off", text)
    return text[:1].upper() + text[1:]
