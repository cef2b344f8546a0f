"""Letters laid out for printing and posting (A4, the address where a window envelope shows
it), one page or more per letter, many letters in one PDF for a batch. The words are the
outbox row's, already in the victim's language; the page is marked with that language."""

from dataclasses import dataclass

from jinja2 import Environment
from weasyprint import HTML

from models.vocabulary import Language

_PAGE = Environment(autoescape=True).from_string(
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Letters</title><style>
@page { size: A4; margin: 20mm 20mm 25mm 20mm;
        @bottom-right { content: "Letter " string(letter) " · " counter(page); font-size: 8pt; } }
body { font-family: "Liberation Sans", Arial, sans-serif; font-size: 11pt; line-height: 1.4; }
section { page-break-after: always; string-set: letter attr(data-letter); }
section:last-child { page-break-after: auto; }
.address { height: 40mm; margin-top: 25mm; white-space: pre-line; }
p { margin: 0 0 4mm 0; white-space: pre-line; }
</style></head><body>
{% for letter in letters %}
<section lang="{{ letter.language.value }}" data-letter="{{ letter.letter_id }}">
  <div class="address">{{ letter.address_block }}</div>
  {% for paragraph in letter.paragraphs %}<p>{{ paragraph }}</p>{% endfor %}
</section>
{% endfor %}
</body></html>"""
)


@dataclass(frozen=True)
class PrintedLetter:
    letter_id: int
    language: Language
    body: str  # as in the outbox: the name and address, a blank line, then the letter

    @property
    def address_block(self) -> str:
        return self.body.split("\n\n", 1)[0]

    @property
    def paragraphs(self) -> list[str]:
        rest = self.body.split("\n\n", 1)[1] if "\n\n" in self.body else self.body
        return [p for p in rest.split("\n\n") if p.strip()]


def letters_pdf(letters: list[PrintedLetter]) -> bytes:
    pdf = HTML(string=_PAGE.render(letters=letters)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
