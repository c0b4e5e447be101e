"""Public text: a segment's original text with each redacted span replaced by
its label (docs/design.md, "Public text"). It is made here and nowhere else.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import Redaction

Reason = Redaction.Reason
DEFAULT_LABELS = {
    Reason.PERSON: _("[name removed]"),
    Reason.THIRD_PARTY: _("[third party removed]"),
    Reason.EMPLOYER: _("[employer removed]"),
    Reason.LOCATION: _("[place removed]"),
    Reason.HEALTH: _("[health information removed]"),
    Reason.OTHER: _("[passage removed]"),
}


def default_label(reason: str, language: str) -> str:
    """The label shown for a redaction without one, in the testimony's language."""
    language = language if language in ("fr", "en") else "en"
    with translation.override(language):
        return str(DEFAULT_LABELS[reason])


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans merge; the one that starts first names them.

    Among spans with the same start, the earlier in the given order wins (the
    order recorded), so the result does not depend on a sort's whims.
    """
    ordered = sorted(enumerate(spans), key=lambda item: (item[1].start, item[0]))
    merged: list[Span] = []
    for _index, span in ordered:
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.start, span.end, last.label)
        else:
            merged.append(span)
    return merged


def public_text(text: str, spans: Iterable[Span]) -> str:
    """The text with every redacted span replaced by its label."""
    spans = list(spans)
    # Each span is checked before merging: an empty or reversed one must not
    # pass unnoticed because a neighbour happens to swallow it.
    for span in spans:
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(
                f"redaction [{span.start}, {span.end}) is empty or outside the text "
                f"(length {len(text)})"
            )
    pieces: list[str] = []
    cursor = 0
    for span in merge_spans(spans):
        pieces.append(text[cursor : span.start])
        pieces.append(span.label)
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)
