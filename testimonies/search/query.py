"""The search box's syntax, read once for every backend.

The syntax is that of PostgreSQL's ``websearch_to_tsquery``: words are ANDed, a
quoted text is a phrase, ``or`` between two items makes them alternatives (and
binds tighter than AND: ``a or b c`` is (a or b) and c), and a leading ``-``
excludes an item. Any string is a query: what cannot be read is
dropped, never an error. Each backend compiles the parsed query to its own
engine's syntax, so that both see the same question.
"""

import unicodedata
from dataclasses import dataclass, field

# Longer input is cut: no one types more, and it bounds the work of a query.
MAX_QUERY_CHARS = 1000
MAX_ITEMS = 32


@dataclass(frozen=True)
class Item:
    """A word or a quoted phrase, as typed (the engines tokenise it)."""

    text: str
    phrase: bool = False

    def quoted(self) -> str:
        """The item in double quotes: a phrase of its tokens, in either engine."""
        # Items never hold a double quote (the parser splits on them).
        return '"' + self.text + '"'


@dataclass(frozen=True)
class Query:
    """Clauses ANDed together, each a list of alternatives; minus exclusions."""

    clauses: tuple[tuple[Item, ...], ...] = ()
    exclusions: tuple[Item, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        """Nothing to look for: the search lists testimonies instead."""
        return not self.clauses and not self.exclusions

    @property
    def finds_nothing(self) -> bool:
        """Only exclusions: there is nothing to match, so nothing is found."""
        return not self.clauses and bool(self.exclusions)

    def words(self) -> list[str]:
        """Every positive item's text, for highlighting and for plain scans."""
        return [item.text for clause in self.clauses for item in clause]

    def to_fts5(self) -> str:
        """The query as an SQLite FTS5 expression, every item a quoted string."""
        clauses = [
            "(" + " OR ".join(item.quoted() for item in clause) + ")"
            for clause in self.clauses
        ]
        expression = " AND ".join(clauses)
        if self.exclusions:
            excluded = " OR ".join(item.quoted() for item in self.exclusions)
            expression = f"({expression}) NOT ({excluded})"
        return expression


def _readable(text: str) -> bool:
    # Both engines index letters and digits only; an item without any would
    # be an empty phrase, which FTS5 refuses and PostgreSQL ignores.
    return any(ch.isalnum() for ch in text)


def _clean(raw: str) -> str:
    # Control characters (NUL among them, which PostgreSQL refuses in text)
    # become spaces. Invisible format characters (a soft hyphen, a zero-width
    # space pasted inside a word) go, as the publication gate's folding does,
    # and so do lone surrogates, which no database can store.
    kept = []
    for ch in raw[:MAX_QUERY_CHARS]:
        category = unicodedata.category(ch)
        if category == "Cc":
            kept.append(" ")
        elif category not in ("Cf", "Cs"):
            kept.append(ch)
    return "".join(kept)


def _tokens(text: str):
    """Yield (negated, item) pairs and the string "or" for the operator."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch == "-":
            negated = True
            i += 1
            if i >= n or text[i].isspace():
                continue  # a lone "-" excludes nothing
            ch = text[i]
        if ch == '"':
            close = text.find('"', i + 1)
            close = n if close < 0 else close  # an open quote runs to the end
            yield negated, Item(" ".join(text[i + 1 : close].split()), phrase=True)
            i = close + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        word = text[i:j]
        i = j
        if not negated and word.lower() == "or":
            yield "or"
        else:
            yield negated, Item(word)


def parse(raw: str | None) -> Query:
    """Read a search box's text; never fails."""
    clauses: list[list[Item]] = []
    exclusions: list[Item] = []
    joining = False
    count = 0
    for token in _tokens(_clean(raw or "")):
        if token == "or":
            joining = bool(clauses)
            continue
        negated, item = token
        if not _readable(item.text) or count >= MAX_ITEMS:
            continue  # dropped as if never typed: an "or" before it still joins
        count += 1
        if negated:
            exclusions.append(item)
            joining = False
        elif joining:
            clauses[-1].append(item)
            joining = False
        else:
            clauses.append([item])
    return Query(tuple(tuple(c) for c in clauses), tuple(exclusions))
