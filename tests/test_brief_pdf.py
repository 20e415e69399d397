"""The PDF of a brief says what its HTML says, and is an A4, tagged PDF with every font
embedded (Typst lays it out from the HTML: pedw/briefs/typeset.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pypdf
import pytest

from pedw.briefs.typeset import document_tree, render_pdf


class _Parts(HTMLParser):
    """The headings, key-message sentences and scorecard cells of a brief's HTML, as text."""

    def __init__(self):
        super().__init__()
        self.headings: list[str] = []
        self.claims: list[str] = []
        self.scorecard: list[str] = []
        self._open: list[tuple[str, str]] = []  # (tag, id) of the elements we are inside
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self._open.append((tag, dict(attrs).get("id") or ""))
        ids = {i for _, i in self._open}
        if (
            tag in ("h1", "h2")
            or (tag == "li" and "key-messages" in ids)
            or (tag == "td" and "scorecard" in ids)
        ):
            self._text = []

    def handle_endtag(self, tag):
        ids = {i for _, i in self._open}
        if self._text is not None and tag in ("h1", "h2", "li", "td"):
            text = "".join(self._text)
            if tag in ("h1", "h2"):
                self.headings.append(text)
            elif tag == "li":
                self.claims.append(text)
            elif text.strip():
                self.scorecard.append(text)
            self._text = None
        while self._open and self._open.pop()[0] != tag:
            pass
        del ids

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def _flat(text: str) -> str:
    """Text without whitespace or line-end hyphens (a PDF's lines break where the HTML's do not)."""
    return re.sub(r"[\s\u00ad\u200b]+", "", text)


def _embedded(font) -> bool:
    font = font.get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None and "/DescendantFonts" in font:
        descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else {}
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def check_same_document(html: str, pdf_path) -> pypdf.PdfReader:
    """Every heading, key-message sentence and scorecard value of `html` is in the PDF's
    text; the PDF is A4, tagged, every font embedded."""
    reader = pypdf.PdfReader(pdf_path)
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])
    fonts = [
        font
        for page in reader.pages
        for font in (page["/Resources"].get_object().get("/Font") or {}).values()
    ]
    assert fonts and all(_embedded(f) for f in fonts)
    text = _flat(" ".join(page.extract_text() for page in reader.pages))
    parts = _Parts()
    parts.feed(html)
    assert parts.headings and parts.claims and parts.scorecard
    for wanted in [*parts.headings, *parts.claims, *parts.scorecard]:
        assert _flat(wanted) in text, wanted
    return reader


@pytest.mark.parametrize("country", ["KEN", "PER"])
def test_the_pdf_says_what_the_html_says(pipeline, country):
    settings, _ = pipeline
    html = (settings.briefs_dir / f"{country}.html").read_text(encoding="utf-8")
    reader = check_same_document(html, settings.briefs_dir / f"{country}.pdf")
    # The charts are the HTML's pictures, each with the HTML's alt text in the tags.
    pictures = sum(
        1
        for page in reader.pages
        for x in (page["/Resources"].get_object().get("/XObject") or {}).values()
        if x.get_object()["/Subtype"] == "/Image"
    )
    assert pictures == html.count("<figure ")


def test_a_changed_html_changes_the_pdf(pipeline, tmp_path):
    """The PDF is printed from the HTML given, not from anything else: an edited sentence
    in the HTML is the sentence in the PDF, and the check above catches one that is not."""
    settings, _ = pipeline
    html = (settings.briefs_dir / "KEN.html").read_text(encoding="utf-8")
    edited = html.replace("<h2>Key messages</h2>", "<h2>Messages that matter</h2>")
    render_pdf(edited, tmp_path / "edited.pdf")
    check_same_document(edited, tmp_path / "edited.pdf")
    with pytest.raises(AssertionError, match="Key messages"):
        check_same_document(html, tmp_path / "edited.pdf")


def test_the_document_tree_keeps_text_and_pictures(tmp_path):
    html = (
        "<html><head><title>T  x</title><style>p{}</style></head><body>"
        '<div class="banner" id="demo-banner">Demo</div><h1>Kenya</h1>'
        '<p>Publication <code id="publication-id">abc</code> &middot; a &lt;b&gt;\n  c</p>'
        '<figure><img alt="A chart" src="data:image/png;base64,iVBORw0KGgo="></figure>'
        "</body></html>"
    )
    tree = document_tree(html, tmp_path)
    assert (tree["title"], tree["running"], tree["publication"], tree["synthetic"]) == (
        "T x", "Kenya", "abc", True
    )  # fmt: skip
    paragraph = tree["body"][2]
    assert paragraph["k"][0] == "Publication " and paragraph["k"][2] == " \u00b7 a <b> c"
    picture = tree["body"][3]["k"][0]
    assert picture["alt"] == "A chart"
    assert (tmp_path / picture["img"]).read_bytes() == b"\x89PNG\r\n\x1a\n"
