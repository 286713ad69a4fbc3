"""The machinery behind :func:`maidit_jupyter.parsing.xml.read_workflow`.

One pass over the text: ``str.find`` jumps to the next ``<``, one compiled regular
expression decides whether it starts markup and reads a whole well-formed start tag at
once, and references are decoded run by run. Anything unusual goes through slower code
that reports it precisely. Open elements live on an explicit stack, never the call stack.
"""

from __future__ import annotations

import re
from operator import attrgetter

from maidit_jupyter.parsing._xml_tags import (
    NAME,
    attributes,
    missing_quote,
    tag_contents,
)
from maidit_jupyter.parsing._xml_text import (
    AMP_HINT,
    Pieces,
    decode_into,
    located,
    problem,
    short,
)
from maidit_jupyter.parsing.xml import (
    XmlAttribute,
    XmlDocument,
    XmlElement,
    XmlProblem,
)
from maidit_jupyter.source import LocatedStr

__all__ = ["Reader"]

#: markup at a '<', told apart by the last group matched: a well-formed start tag
#: (groups 1-3: name, attributes, '/'), a well-formed end tag (4: name), the name of
#: any other start tag (5), or no group for other markup ('</', '<!', '<?').
_MARKUP = re.compile(
    rf"""<(?:({NAME})((?:\s+{NAME}\s*=\s*(?:"[^"]*"|'[^']*'))*+)\s*(/?)>"""
    rf"|/({NAME})\s*>|({NAME})|[/!?])"
)
_MARKUP_START = re.compile(r"<[A-Za-z_/!?]")
_END_TAG = re.compile(rf"</({NAME})\s*")
_END_JUNK = re.compile(r"[^<>]*>")
_XML_DECL = re.compile(r"<\?xml(?:\s|\?>)")
_SUBSET_END = re.compile(r"\]\s*>")
#: a run of adjacent comments, skipped in one step.
_COMMENTS = re.compile(r"(?:<!--[^-]*+(?:-(?!->)[^-]*+)*+-->)+")
#: characters XML 1.0 does not allow (C0 controls but tab, LF and CR; lone surrogates;
#: U+FFFE and U+FFFF) and the bidirectional controls that can make a flow read
#: differently from how it runs ("Trojan Source", CVE-2021-42574).
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]"
)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: at most this many forbidden characters are reported one by one.
_MAX_FORBIDDEN = 10
_LT_HINT = (
    "a '<' followed by a letter starts a tag: write 'a < b' with spaces or '&lt;'"
)


class Frame:
    """An open element on the reader's stack."""

    __slots__ = (
        "attributes",
        "broken_at",
        "children",
        "explained",
        "pieces",
        "problems",
        "start",
        "start_tag_end",
        "tag",
    )

    def __init__(
        self,
        tag: str,
        start: int,
        start_tag_end: int,
        attributes: tuple[XmlAttribute, ...],
        problems: list[XmlProblem],
        broken_at: int,
        keep: bool,
    ) -> None:
        """Open an element (see the attributes for the arguments)."""
        #: a mismatched closing tag was already reported while this element was open.
        self.explained = False
        self.tag = tag
        self.start = start
        self.start_tag_end = start_tag_end
        self.attributes = attributes
        #: problems of the start tag, held back until it is clear the tag was meant.
        self.problems = problems
        #: where the start tag breaks off without a '>' (-1 if it has one).
        self.broken_at = broken_at
        self.children: list[XmlElement] = []
        #: the text content; None for elements checked but not returned.
        self.pieces: Pieces | None = [] if keep else None


class Reader:
    """The state of one :func:`~maidit_jupyter.parsing.xml.read_workflow` call."""

    def __init__(self, text: str, start: int, root_tag: str, max_depth: int) -> None:
        """Prepare to read ``text`` from offset ``start`` (within the text)."""
        self.text = text
        self.size = len(text)
        self.start = start
        self.root_tag = root_tag
        self.max_depth = max_depth
        self.problems: list[XmlProblem] = []
        self.stack: list[Frame] = []
        #: how many elements of each name are open, to recover from end tags in O(1).
        self.open_tags: dict[str, int] = {}
        self.root: XmlElement | None = None
        self.end = self.size
        self.finished = False

    def problem(self, message: str, start: int, end: int, *hints: str) -> None:
        """Report a problem."""
        self.problems.append(problem(message, start, end, *hints))

    def read(self) -> XmlDocument:
        """Read up to the root's end tag or the end of the text."""
        text, stack, find = self.text, self.stack, self.text.find
        pos = run = self.start  # where to look for '<'; where pending text starts
        while True:
            at = find("<", pos)
            if at == -1:
                break
            match = _MARKUP.match(text, at)
            if match is None:
                # a literal '<': let the regular expression skip a run of them
                following = _MARKUP_START.search(text, at + 1)
                if following is None:
                    break
                pos = following.start()
                continue
            index = match.lastindex
            end_tag = None
            if index is None and text[at + 1] == "/":
                end_tag = _END_TAG.match(text, at)
                if end_tag is None:
                    self.problem(
                        "stray '</' without an element name",
                        at,
                        at + 2,
                        "write '&lt;/' for a literal '</'",
                    )
                    pos = at + 2
                    continue
            if stack and at > run:
                pieces = stack[-1].pieces
                if pieces is not None and find("&", run, at) == -1:
                    pieces.append((text[run:at], run))
                else:
                    decode_into(text, pieces, run, at, self.problems)
            if index == 3 or index == 5:
                pos = run = self.start_tag(at, match)
            elif index == 4:
                pos = run = match.end()
                if stack and stack[-1].tag == match.group(4):
                    self.close(pos)
                else:
                    self.end_tag(at, match.group(4), pos)
            elif end_tag is not None:
                pos = run = self.broken_end_tag(at, end_tag)
            elif text[at + 1] == "!":
                pos = run = self.declaration(at)
            else:
                pos = run = self.instruction(at)
            if self.finished:
                break
        self.forbidden_characters()
        if not self.finished:
            if stack and self.size > run:
                decode_into(text, stack[-1].pieces, run, self.size, self.problems)
            while stack:
                self.close(self.size, unclosed=True)
        problems = sorted(self.problems, key=attrgetter("start"))
        return XmlDocument(root=self.root, problems=tuple(problems), end=self.end)

    def forbidden_characters(self) -> None:
        """Report characters a flow may not contain, each at its place."""
        end = self.end if self.finished else self.size
        for count, bad in enumerate(_FORBIDDEN.finditer(self.text, self.start, end)):
            if count == _MAX_FORBIDDEN:
                break
            code = ord(bad.group())
            if bad.group() in _BIDI:
                message = f"bidirectional control U+{code:04X} is not allowed in a flow"
                hint = f"remove it, or write '&#x{code:X};' where text really needs it"
            else:
                message = f"character U+{code:04X} is not allowed in a flow"
                hint = "remove it"
            self.problem(message, bad.start(), bad.end(), hint)

    def start_tag(self, at: int, match: re.Match[str]) -> int:
        """Read the start tag ``match`` found at ``at``; return where it ends."""
        text, stack = self.text, self.stack
        problems: list[XmlProblem] = []
        tag = match.group(1)
        attributes_start, attributes_end = match.span(2)
        if tag is not None and not missing_quote(
            text, attributes_start, attributes_end
        ):
            found = attributes(text, attributes_start, attributes_end, problems)
            tag_end, self_closing, broken_at = match.end(), match.group(3) == "/", -1
        else:
            name_end = match.end(5) if tag is None else match.end(1)
            tag = match.group(5) if tag is None else tag
            found, tag_end, self_closing, broken_at = tag_contents(
                text, tag, name_end, problems
            )
        if len(stack) >= self.max_depth:
            self.problem(
                f"elements nest deeper than {self.max_depth} levels",
                at,
                tag_end,
                "the rest of the document is not read",
            )
            while stack:
                self.close(at)
            self.finished = True
            self.end = self.size
            return tag_end
        keep = stack[-1].pieces is not None if stack else tag == self.root_tag
        if not self_closing:
            stack.append(Frame(tag, at, tag_end, found, problems, broken_at, keep))
            self.open_tags[tag] = self.open_tags.get(tag, 0) + 1
            return tag_end
        self.problems.extend(problems)
        if keep:
            element = XmlElement(
                tag=tag,
                start=at,
                start_tag_end=tag_end,
                end=tag_end,
                attributes=found,
                children=(),
                text=LocatedStr("", tag_end),
            )
            self.attach(element, tag_end)
        return tag_end

    def textlike(self, frame: Frame) -> bool:
        """Tell whether the start tag of ``frame`` looks like a '<' meant as text."""
        text, at = self.text, frame.start
        before = text[at - 1] if at > self.start else ">"
        if not before.isspace() and before != ">":
            return True  # a<b
        # ``x <b && c</x>`` rather than a tag whose '>' was forgotten at a line end
        return frame.broken_at >= 0 and (
            bool(frame.problems)
            or text.find("\n", frame.start_tag_end, frame.broken_at) == -1
        )

    def broken_end_tag(self, at: int, match: re.Match[str]) -> int:
        """Report what is wrong with the end tag ``match`` and handle it; return its end."""
        name = match.group(1)
        junk = _END_JUNK.match(self.text, match.end())
        if junk is not None:
            tag_end = junk.end()
            self.problem(
                f"unexpected text in closing tag </{short(name)}>",
                match.end(),
                tag_end - 1,
                "a closing tag holds only the element name",
            )
        else:
            tag_end = match.end(1)
            self.problem(
                f"closing tag </{short(name)}> has no closing '>'",
                at,
                tag_end,
                f"write </{short(name)}>",
            )
        if self.stack and self.stack[-1].tag == name:
            self.close(tag_end)
        else:
            self.end_tag(at, name, tag_end)
        return tag_end

    def end_tag(self, at: int, name: str, tag_end: int) -> None:
        """Handle the end tag ``</name>`` at ``at`` that does not close the open element."""
        stack = self.stack
        if not stack:
            self.problem(
                f"unexpected closing tag </{short(name)}>",
                at,
                tag_end,
                f"no <{short(name)}> element is open",
            )
            return
        top = stack[-1]
        if self.open_tags.get(name, 0) > 0:
            # It closes an outer element: the ones in between were left unclosed
            # (each reported once, unless a mismatched tag already explained it).
            while stack[-1].tag != name:
                self.close(at, unclosed=True)
            self.close(tag_end)
            return
        hints = [f"no <{short(name)}> element is open, so this closing tag is ignored"]
        if self.textlike(top):
            hints.append(_LT_HINT)
        self.problem(
            f"mismatched closing tag </{short(name)}>; expected </{short(top.tag)}>",
            at,
            tag_end,
            *hints,
        )
        top.explained = True

    def close(self, end: int, *, unclosed: bool = False) -> None:
        """Pop the innermost open element, ending at ``end``, and attach it."""
        frame = self.stack.pop()
        self.open_tags[frame.tag] -= 1
        if frame.broken_at >= 0 or (unclosed and not frame.explained):
            self.report(frame, unclosed=unclosed)
        elif frame.problems:
            self.problems.extend(frame.problems)
        pieces = frame.pieces
        if pieces is None:
            return
        element = XmlElement(
            tag=frame.tag,
            start=frame.start,
            start_tag_end=frame.start_tag_end,
            end=end,
            attributes=frame.attributes,
            children=tuple(frame.children),
            text=located(pieces, frame.start_tag_end),
        )
        self.attach(element, end)

    def report(self, frame: Frame, *, unclosed: bool) -> None:
        """Report an element closed by an unrelated end tag, or with a broken start tag.

        The problems of a start tag that looks like a '<' meant as text are dropped:
        the hint to write ``a < b`` explains them all.
        """
        tag = short(frame.tag)
        broken = frame.broken_at >= 0
        textlike = self.textlike(frame)
        if not unclosed:
            self.problems.extend(frame.problems)
            self.problem(
                f"start tag <{tag}> has no closing '>'",
                frame.start,
                frame.start_tag_end,
                *((_LT_HINT,) if textlike else ()),
            )
            return
        hints = [f"the start tag <{tag}> has no closing '>'"] if broken else []
        if textlike:
            hints.append(_LT_HINT)
        else:
            self.problems.extend(frame.problems)
            hints.append(f"close it with </{tag}>")
        self.problem(f"unclosed <{tag}>", frame.start, frame.start_tag_end, *hints)

    def attach(self, element: XmlElement, end: int) -> None:
        """Add a finished element to its parent, or make it the root and stop."""
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
            self.end = end
            self.finished = True

    def declaration(self, at: int) -> int:
        """Skip a comment, CDATA section or declaration at ``at``; return its end."""
        text, size = self.text, self.size
        if text.startswith("<!--", at):
            comments = _COMMENTS.match(text, at)
            if comments is None:
                self.problem("unterminated comment", at, at + 4, "close it with '-->'")
                return size
            return comments.end()
        if text.startswith("<![CDATA[", at):
            end = text.find("]]>", at + 9)
            stop = size if end == -1 else end
            if self.stack and stop > at + 9:
                pieces = self.stack[-1].pieces
                if pieces is not None:
                    pieces.append((text[at + 9 : stop], at + 9))
            if end == -1:
                self.problem(
                    "unterminated CDATA section", at, at + 9, "close it with ']]>'"
                )
                return size
            return end + 3
        head = text[at + 2 : at + 9].upper()
        gt = text.find(">", at)
        end = size if gt == -1 else gt + 1
        if head == "DOCTYPE":
            bracket = text.find("[", at, end)
            if bracket != -1:
                subset_end = _SUBSET_END.search(text, bracket)
                end = size if subset_end is None else subset_end.end()
            self.problem(
                "DOCTYPE declarations are not allowed",
                at,
                end,
                "remove it; nothing it declares is used or fetched",
            )
        elif head.startswith("ENTITY"):
            self.problem(
                "entity declarations are not allowed",
                at,
                end,
                f"remove it; {AMP_HINT}",
            )
        else:
            self.problem("markup declarations are not allowed", at, end, "remove it")
        return end

    def instruction(self, at: int) -> int:
        """Report and skip the processing instruction at ``at``; return its end."""
        end = self.text.find("?>", at + 2)
        end = self.size if end == -1 else end + 2
        hint = "remove it"
        if _XML_DECL.match(self.text, at):
            hint = "remove it; the body needs no XML declaration"
        self.problem("processing instructions are not allowed", at, end, hint)
        return end
