"""The text a reader finds in the files of a public release, and what it must never say.

The release checker (pedw.public_release.check_public_release) reads every HTML, CSV and PDF
file through here: the HTML's source (attributes and scripts included) and its visible text,
a CSV as it is, a PDF page by page through PDFium (Chromium's PDF reader, whatever printed the
file), each with its invisible characters (zero-width spaces, soft hyphens, direction marks)
taken out, so an identifier split by one is still read whole. Two things are refused in any of
them: a firm identifier of the microdata, and a statement of how many firms a figure
rests on when that count is below the disclosure threshold ("rests on 3 firms"). Numbers of
firms at or above the threshold ("fewer than 10 firms contribute", "479 treated firms") are
what disclosure control publishes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

# Characters a reader does not see that split a token for a pattern: Unicode's format
# characters a text may carry (soft hyphen, zero-width space/joiners, direction marks and
# isolates, word joiner, byte-order mark) and the marks PDFium gives for a hyphen it inserted.
INVISIBLE = re.compile("[\u0002\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ufffe]")  # fmt: skip
TOKEN = re.compile(r"[A-Za-z0-9_-]{3,}")
# A line broken inside a word (a PDF wraps an identifier at its hyphen): joined again.
WRAPPED = re.compile(r"(?<=[A-Za-z0-9_-])[ \t]*\r?\n[ \t]*(?=[A-Za-z0-9_-])")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9}  # fmt: skip
# "<count> [up to two qualifiers] firms": the way a text states how many units a figure has.
COUNT = re.compile(
    r"\b(\d{1,3}(?:,\d{3})+|\d+|" + "|".join(NUMBER_WORDS) + r")\s+"
    r"(?:(?:treated|control|contributing|large|small|medium|micro|other|more|distinct|"
    r"participating|surveyed|sampled|responding|sme|smes)\s+){0,2}"
    r"(?:firms?|enterprises?|establishments?|businesses|contributors?|respondents?)\b",
    re.IGNORECASE,
)
TEXT_FILES = (".html", ".csv", ".pdf")


class _Visible(HTMLParser):
    """The text of an HTML page as a reader sees it (no tags, styles or scripts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("style", "script"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self._hidden:
            self._hidden -= 1
        elif tag in (
            "p",
            "div",
            "li",
            "tr",
            "td",
            "th",
            "br",
            "h1",
            "h2",
            "h3",
            "h4",
            "figcaption",
        ):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(source: str) -> str:
    """The visible text of an HTML page, one line per block."""
    parser = _Visible()
    parser.feed(source)
    parser.close()
    return re.sub(r"[ \t]+", " ", "".join(parser.parts))


def file_texts(path: Path) -> Iterator[tuple[str, str, bool]]:
    """(where in the file, text, is it what a reader reads) of a release file: a PDF's pages
    (PDFium's text of each), an HTML page's source and its visible text, a CSV as it is;
    invisible characters removed."""
    for place, text, read in _raw_texts(path):
        yield place, INVISIBLE.sub("", text), read


def _raw_texts(path: Path) -> Iterator[tuple[str, str, bool]]:
    if path.suffix == ".pdf":
        import pypdfium2  # PDFium (C++): read here only

        document = pypdfium2.PdfDocument(path)
        try:
            for number in range(len(document)):
                page = document[number]
                text = page.get_textpage().get_text_range()
                yield f"page {number + 1}", text.replace("\r\n", "\n"), True
        finally:
            document.close()
        return
    source = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        yield "", source, False
        yield "", html_text(source), True
    else:
        yield "", source, True


def firm_ids_in(text: str, firm_ids: set[str]) -> list[str]:
    """The firm identifiers `text` holds, as whole tokens, also where a line break split one."""
    if not firm_ids:
        return []
    found = set(TOKEN.findall(text)) | set(TOKEN.findall(WRAPPED.sub("", text)))
    return sorted(found & firm_ids)


def small_counts_in(text: str, threshold: int) -> list[str]:
    """Each phrase of `text` that states a count of firms from 1 to `threshold - 1`."""
    found = []
    for match in COUNT.finditer(text):
        word = match[1].lower()
        count = NUMBER_WORDS[word] if word in NUMBER_WORDS else int(word.replace(",", ""))
        if 0 < count < threshold:
            found.append(" ".join(match[0].split()))
    return found


def line_of(text: str, needle: str) -> int | None:
    """The line (from 1) where `needle` first occurs in `text`."""
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


def text_problem(path: Path, firm_ids: set[str], threshold: int) -> str | None:
    """What a release's text file must not say, as "<page or line>: <what>" ('' for the
    whole file; None when clean): a firm identifier anywhere in it, or a count of firms below
    `threshold` in what a reader reads."""
    for place, text, read in file_texts(path):
        ids = firm_ids_in(text, firm_ids)
        if ids:
            line = line_of(text, ids[0])
            at = place or (f"line {line}" if line else "across a line break")
            return f"{at}: holds firm identifier(s) {ids[:3]}"
        counts = small_counts_in(text, threshold) if read else []
        if counts:
            line = line_of(text, counts[0]) if path.suffix == ".csv" else None
            at = place or (f"line {line}" if line else "(visible text)")
            return (
                f"{at}: states a count of firms below the threshold of {threshold} "
                f"({', '.join(repr(c) for c in counts[:3])})"
            )
    return None
