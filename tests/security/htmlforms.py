"""Read a page's POST form the way a browser would: field names with their current values and options."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    multiple: bool = False


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[FormField]] = []
        self.actions: list[str] = []  # "" for a form that posts to the page itself
        self._in_form = False
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._in_form = True
            self.forms.append([])
            self.actions.append(a.get("action") or "")
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file"):
                return
            self.forms[-1].append(FormField(a["name"], kind, a.get("value") or "", checked="checked" in a))
        elif tag == "select" and a.get("name"):
            self._select = FormField(a["name"], "select", multiple="multiple" in a)
            self.forms[-1].append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            self._select.options.append(value)
            if "selected" in a:
                self._select.value = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = FormField(a["name"], "textarea")
            self.forms[-1].append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data


def page_form(html: str, action: str = "") -> list[FormField]:
    """The fields of a POST form of the page: by default the first one posting to the page itself, else the one
    whose action attribute is ``action``."""
    parser = _Parser()
    parser.feed(html)
    forms = [
        f
        for f, a in zip(parser.forms, parser.actions, strict=True)
        if a == action and any(x.name != "csrfmiddlewaretoken" for x in f)
    ]
    assert forms, f"no POST form to {action or 'the page itself'} on the page"
    return forms[0]


def as_post_data(fields: list[FormField]) -> dict[str, str]:
    data: dict[str, str] = {}
    for f in fields:
        if f.kind == "select" and f.multiple:
            if f.value:
                data[f.name] = f.value
        elif f.kind in ("checkbox", "radio"):
            if f.checked:
                data[f.name] = f.value or "on"
        else:
            data[f.name] = f.value
    return data
