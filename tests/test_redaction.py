"""Public text (testimonies/redaction.py): pure functions."""

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from testimonies.redaction import Span, default_label, merge_spans, public_text

# --- public_text: a property over random texts and spans ---------------------

# Text and labels are drawn from disjoint alphabets, so the labels can be told
# apart from the text in the output without knowing where they were put.
TEXT_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyz  éèàçôüœß"
    "\u0301\u0308\u0327"  # combining acute, diaeresis, cedilla
    "😀🚲\u200d"  # emoji and the zero-width joiner of emoji sequences
)
LABEL_ALPHABET = "[]#"
assert not set(TEXT_ALPHABET) & set(LABEL_ALPHABET)


@st.composite
def texts_and_spans(draw):
    text = draw(st.text(alphabet=TEXT_ALPHABET, max_size=40))
    if not text:
        return text, []
    bounds = st.integers(0, len(text) - 1).flatmap(
        lambda start: st.tuples(st.just(start), st.integers(start + 1, len(text)))
    )
    labels = st.text(alphabet=LABEL_ALPHABET, min_size=1, max_size=5)
    spans = draw(
        st.lists(
            st.builds(lambda b, label: Span(*b, label), bounds, labels), max_size=6
        )
    )
    return text, spans


def covered_code_points(text: str, spans: list[Span]) -> list[bool]:
    covered = [False] * len(text)
    for span in spans:
        for index in range(span.start, span.end):
            covered[index] = True
    return covered


def covered_runs(covered: list[bool]) -> list[tuple[int, int]]:
    """Maximal runs of covered code points: overlapping and touching spans alike."""
    runs: list[tuple[int, int]] = []
    for index, is_covered in enumerate(covered):
        if not is_covered:
            continue
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


def label_runs(output: str) -> list[str]:
    """Maximal runs of label characters in an output."""
    runs: list[str] = []
    previous_was_label = False
    for char in output:
        if char in LABEL_ALPHABET:
            if previous_was_label:
                runs[-1] += char
            else:
                runs.append(char)
        previous_was_label = char in LABEL_ALPHABET
    return runs


@hypothesis_settings(max_examples=1500)
@given(texts_and_spans())
def test_public_text_keeps_only_uncovered_code_points_in_order(case):
    text, spans = case
    covered = covered_code_points(text, spans)
    output = public_text(text, spans)
    kept = "".join(
        char for char, hidden in zip(text, covered, strict=True) if not hidden
    )
    assert "".join(c for c in output if c not in LABEL_ALPHABET) == kept


@hypothesis_settings(max_examples=1500)
@given(texts_and_spans())
def test_public_text_is_kept_pieces_and_one_label_per_merged_group(case):
    text, spans = case
    groups = covered_runs(covered_code_points(text, spans))
    expected, cursor = [], 0
    for group_start, group_end in groups:
        # The label of the span starting first; on the same start, the earliest
        # given. Every span of a group starts inside it.
        first = min(
            (
                (span.start, order, span.label)
                for order, span in enumerate(spans)
                if group_start <= span.start < group_end
            ),
        )
        assert first[0] == group_start
        expected += [text[cursor:group_start], first[2]]
        cursor = group_end
    expected.append(text[cursor:])
    output = public_text(text, spans)
    assert output == "".join(expected)
    assert len(label_runs(output)) == len(groups)


# --- public_text: examples ---------------------------------------------------


def test_overlapping_spans_merge_under_the_label_of_the_first():
    spans = [Span(4, 9, "[B]"), Span(2, 6, "[A]")]
    assert public_text("0123456789", spans) == "01[A]9"


def test_touching_spans_merge_into_one_label():
    assert public_text("abcdefg", [Span(0, 3, "[X]"), Span(3, 5, "[Y]")]) == "[X]fg"


def test_spans_one_code_point_apart_stay_two_labels():
    assert public_text("abcdefg", [Span(0, 3, "[X]"), Span(4, 5, "[Y]")]) == "[X]d[Y]fg"


def test_nested_span_disappears_into_the_outer_one():
    assert public_text("0123456789", [Span(1, 8, "[O]"), Span(3, 5, "[I]")]) == (
        "0[O]89"
    )


def test_spans_with_the_same_start_take_the_first_given_label():
    spans = [Span(2, 4, "[first]"), Span(2, 8, "[second]")]
    assert public_text("0123456789", spans) == "01[first]89"
    assert merge_spans(spans) == [Span(2, 8, "[first]")]


def test_offsets_are_code_points_not_bytes_or_utf16_units():
    text = "😀 Élodie e\u0301 ok"
    assert public_text(text, [Span(2, 8, "[nom]")]) == "😀 [nom] e\u0301 ok"


def test_no_span_gives_the_text_unchanged():
    assert public_text("rien à cacher", []) == "rien à cacher"


@pytest.mark.parametrize(
    "spans",
    [
        [Span(0, 11, "[x]")],
        [Span(-1, 2, "[x]")],
        [Span(3, 3, "[x]")],
        [Span(5, 2, "[x]")],
        # An invalid span must not hide behind a valid neighbour that covers it.
        [Span(0, 6, "[x]"), Span(3, 3, "[y]")],
        [Span(0, 6, "[x]"), Span(4, 2, "[y]")],
        [Span(0, 6, "[x]"), Span(5, 11, "[y]")],
    ],
)
def test_span_outside_the_text_or_empty_raises_value_error(spans):
    with pytest.raises(ValueError, match="length 10"):
        public_text("0123456789", spans)


def test_default_person_label_is_french_for_a_french_testimony():
    assert default_label("person", "fr") == "[nom retiré]"


def test_default_person_label_is_english_for_an_english_testimony():
    assert default_label("person", "en") == "[name removed]"


@pytest.mark.parametrize("language", ["de", "es", "", "xx"])
def test_default_label_falls_back_to_english_for_other_languages(language):
    assert default_label("person", language) == "[name removed]"


def test_default_label_does_not_follow_the_active_language():
    with translation.override("en"):
        assert default_label("person", "fr") == "[nom retiré]"
    with translation.override("fr"):
        assert default_label("person", "en") == "[name removed]"


@pytest.mark.parametrize(
    "reason", ["person", "third_party", "employer", "location", "health", "other"]
)
def test_every_reason_has_a_bracketed_label_in_both_languages(reason):
    french, english = default_label(reason, "fr"), default_label(reason, "en")
    assert french.startswith("[") and french.endswith("]")
    assert english.startswith("[") and english.endswith("]")
