"""Print a brief document (a country brief or the cross-country annex) to an A4, tagged PDF
with embedded fonts, with Typst in-process (a few times faster than WeasyPrint, which printed
them before; figures in CHANGELOG.md).

The PDF is laid out from the document's own HTML: the HTML is read into a tree of its
elements (tag, class, id, text, link targets; a chart by the picture it embeds) and handed to
document.typ as JSON, which gives each kind of element its printed form. Every word and
number in the PDF is thus the HTML's, formatted once by the Jinja template: the two formats
cannot say different things. The fonts are DejaVu's, from the folder named below, never the
machine's font list, so the PDF is the same on every machine that has them.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

TYPST_TEMPLATE = Path(__file__).with_name("document.typ")


def font_dir() -> Path:
    """DejaVu Sans and Sans Mono, the fonts the page styles name, as matplotlib (a pinned
    dependency, which draws the charts in them too) ships them: every machine prints the
    same PDF, with no system font package."""
    import matplotlib  # the charts' library: already loaded by the step that prints

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


# Elements whose children are blocks: whitespace between those children is layout, not text.
_CONTAINERS = {"html", "body", "section", "header", "table", "thead", "tbody", "tr", "ol", "ul",
               "figure"}  # fmt: skip
_VOID = {"img", "br", "meta", "link", "hr", "input"}
_SKIPPED = {"head", "style", "script", "title"}


class _Tree(HTMLParser):
    """The body of a page as nested {"t": tag, "c": class, "id", "k": children} nodes, text
    as strings (whitespace collapsed as a browser shows it), pictures as files in `folder`."""

    def __init__(self, folder: Path):
        super().__init__(convert_charrefs=True)
        self.folder = folder
        self.root: dict = {"t": "root", "k": []}
        self.stack = [self.root]
        self.skip = 0
        self.title = ""
        self._in_title = False
        self.pictures = 0

    def handle_starttag(self, tag, attrs):
        self._in_title |= tag == "title"
        if tag in _SKIPPED:
            self.skip += 1
            return
        if self.skip:
            return
        attributes = dict(attrs)
        node = {"t": tag, "c": attributes.get("class") or "", "id": attributes.get("id") or "",
                "k": []}  # fmt: skip
        if tag == "a":
            node["href"] = attributes.get("href") or ""
        if tag in ("td", "th"):
            node["colspan"] = int(attributes.get("colspan") or 1)
        if tag == "img":
            node["img"], node["alt"] = (
                self._picture(attributes.get("src") or ""),
                attributes.get("alt", ""),
            )
        self.stack[-1]["k"].append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        self._in_title &= tag != "title"
        if tag in _SKIPPED:
            self.skip -= 1
            return
        if self.skip or tag in _VOID:
            return
        # Close up to the matching element (HTML lets some end tags be implied).
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth]["t"] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self.skip:
            return
        text = re.sub(r"\s+", " ", data)
        parent = self.stack[-1]
        if text.strip() or (text and parent["t"] not in _CONTAINERS):
            parent["k"].append(text)

    def _picture(self, src: str) -> str:
        """An embedded (data:) picture written to the folder Typst reads; its file name."""
        head, _, data = src.partition(",")
        if not head.startswith("data:image/png;base64"):
            raise ValueError(f"a brief embeds only PNG data: pictures, not {head[:40]!r}")
        self.pictures += 1
        name = f"picture-{self.pictures}.png"
        (self.folder / name).write_bytes(base64.b64decode(data))
        return name


def _trim(node: dict) -> None:
    """No space at the start or end of a block's text (a browser shows none there)."""
    kids = node.get("k", [])
    if kids and isinstance(kids[0], str):
        kids[0] = kids[0].lstrip()
    if kids and isinstance(kids[-1], str):
        kids[-1] = kids[-1].rstrip()
    node["k"] = [k for k in kids if k != ""]
    for kid in node["k"]:
        if isinstance(kid, dict):
            _trim(kid)


def _text(node) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text(k) for k in node.get("k", []))


def _find(node: dict, test) -> dict | None:
    """The first node under `node` (itself included) that passes `test`."""
    found = _all(node, test)
    return found[0] if found else None


def document_tree(html: str, folder: Path) -> dict:
    """What document.typ lays out: the page's body, its title, what its page margins repeat
    (the first heading and the publication id, as the HTML's print styles do) and whether it
    is a demo document (it carries the demo banner). Pictures are written to `folder`."""
    parser = _Tree(folder)
    parser.feed(html)
    parser.close()
    body = _find(parser.root, lambda n: n["t"] == "body") or parser.root
    _trim(body)
    _keep_note_with_content(body)
    heading = _find(body, lambda n: n["t"] == "h1")
    publication = _find(body, lambda n: n["id"] == "publication-id")
    return {
        "title": " ".join(parser.title.split()),
        "running": _text(heading) if heading else "",
        "publication": _text(publication) if publication else "",
        "synthetic": _find(body, lambda n: n["id"] == "demo-banner") is not None,
        "body": body["k"],
    }


def _keep_note_with_content(node: dict) -> None:
    """Mark the last table before the technical note (the footer) to stay on the note's page:
    a last page holding the note alone reads as if the brief had lost its end."""
    kids = node.get("k", [])
    for at, kid in enumerate(kids):
        if not isinstance(kid, dict):
            continue
        if kid["t"] == "footer":
            before = [k for k in kids[:at] if isinstance(k, dict)]
            tables = _all(before[-1], lambda n: n["t"] == "table") if before else []
            if tables:
                tables[-1]["sticky"] = True
            return
        _keep_note_with_content(kid)


def _all(node: dict, match) -> list[dict]:
    """Every node under `node` (itself included) that `match`es, in document order."""
    found = [node] if match(node) else []
    for kid in node.get("k", []):
        if isinstance(kid, dict):
            found += _all(kid, match)
    return found


@functools.cache
def _compiler():
    """One Typst compiler per process (fonts read once), with no font from the machine's list."""
    import typst  # needed only by the step that prints

    fonts = font_dir()
    if not (fonts / "DejaVuSans.ttf").is_file():
        raise FileNotFoundError(
            f"{fonts / 'DejaVuSans.ttf'} not found: the PDF briefs are set in DejaVu Sans as "
            "matplotlib ships it (reinstall matplotlib: make install)"
        )
    return typst.Compiler(font_paths=[str(fonts)], ignore_system_fonts=True)


def render_pdf(html: str, path: Path) -> None:
    """Print a document's HTML to an A4, tagged PDF with page numbers and embedded fonts.

    Nothing is fetched: the pictures are the HTML's embedded data: URLs. Links keep the
    HTML's targets (relative links to the chart data and the annex stay relative)."""
    with tempfile.TemporaryDirectory(prefix="pedw-typeset-") as folder:
        tree = document_tree(html, Path(folder))
        (Path(folder) / "document.json").write_text(json.dumps(tree), encoding="utf-8")
        pdf = _compiler().compile(
            input=TYPST_TEMPLATE.read_bytes(), root=folder, format="pdf", pdf_tags=True
        )
    path.write_bytes(pdf)
