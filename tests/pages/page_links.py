"""Reading the links of a page, as a reader would follow them."""

from __future__ import annotations

from html.parser import HTMLParser


class Links(HTMLParser):
    """Every ``<a href>`` of a page with its text, and the page's ``<svg>`` count."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.svgs = 0
        self._href: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []
        elif tag == "svg":
            self.svgs += 1

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None

    def hrefs(self) -> list[str]:
        return [href for href, _ in self.links]

    def find(self, text: str) -> str:
        """The href of the first link whose text contains ``text``."""
        for href, words in self.links:
            if text in words:
                return href
        raise AssertionError(f"no link with text {text!r} among {[w for _, w in self.links]}")
