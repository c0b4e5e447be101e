"""Public text and the identity scan (testimonies/redaction.py): pure functions."""

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from testimonies.redaction import (
    HitKind,
    IdentityScanner,
    Span,
    default_label,
    merge_spans,
    public_text,
)

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


# --- IdentityScanner ---------------------------------------------------------


def kinds_at(scanner: IdentityScanner, text: str) -> list[tuple[int, str]]:
    return [(hit.offset, hit.kind) for hit in scanner.scan("field", text)]


LEGAL = IdentityScanner(legal_name="Élodie Martin-Dubois")


@pytest.mark.parametrize(
    "text",
    [
        "elodie",
        "ELODIE",
        "Élodie",
        "E\u0301lodie",  # decomposed accent, as typed on some systems
        "MARTIN",
        "dubois",
        "Martin-Dubois",
        "Élodie Martin-Dubois",
        "l'élodie",
    ],
)
def test_scanner_finds_each_legal_name_part_whatever_case_and_accents(text):
    assert [kind for _, kind in kinds_at(LEGAL, text)]
    assert {kind for _, kind in kinds_at(LEGAL, text)} == {HitKind.LEGAL_NAME}


@pytest.mark.parametrize(
    "text", ["Martine", "martinet", "Duboisier", "Elodies", "dubois2", "2martin"]
)
def test_scanner_matches_legal_name_parts_as_whole_words_only(text):
    assert kinds_at(LEGAL, text) == []


def test_scanner_ignores_legal_name_parts_of_two_letters():
    scanner = IdentityScanner(legal_name="Lu Wen")
    assert kinds_at(scanner, "Lu a parlé à Lu") == []
    assert kinds_at(scanner, "WEN a parlé") == [(0, HitKind.LEGAL_NAME)]


def test_scanner_finds_a_legal_name_stored_with_decomposed_accents():
    scanner = IdentityScanner(legal_name="E\u0301lodie Lu")
    assert kinds_at(scanner, "c'est Élodie") == [(6, HitKind.LEGAL_NAME)]


def test_scanner_finds_legal_name_parts_in_a_handle():
    assert kinds_at(LEGAL, "@martin_dubois") == [
        (1, HitKind.LEGAL_NAME),
        (8, HitKind.LEGAL_NAME),
    ]


def test_scanner_sees_through_a_soft_hyphen_inside_a_name():
    assert kinds_at(LEGAL, "Du\u00adbois") == [(0, HitKind.LEGAL_NAME)]


def test_scanner_finds_a_name_whose_capitals_fold_to_two_letters():
    scanner = IdentityScanner(legal_name="Anna Strauß")
    assert kinds_at(scanner, "chez STRAUSS") == [(5, HitKind.LEGAL_NAME)]


def test_scanner_skips_the_legal_name_of_a_named_narrator():
    scanner = IdentityScanner(
        legal_name="Élodie Martin-Dubois", contact="elodie@example.org", named=True
    )
    assert kinds_at(scanner, "Élodie Martin-Dubois raconte") == []


def test_named_narrator_contact_is_still_found():
    scanner = IdentityScanner(
        legal_name="Élodie Martin", contact="Signal: elodie-md", named=True
    )
    assert kinds_at(scanner, "Élodie, Signal: elodie-md") == [(8, HitKind.CONTACT)]


def test_scanner_finds_the_contact_whatever_the_case():
    scanner = IdentityScanner(contact="12 rue des Lilas, Montreuil")
    assert kinds_at(scanner, "au 12 RUE DES LILAS") == [(3, HitKind.CONTACT)]
    assert kinds_at(scanner, "à montreuil") == [(2, HitKind.CONTACT)]


@pytest.mark.parametrize(
    "text",
    [
        "le Projet Atlas",
        "le projet atlas",
        "le PROJET ÂTLAS",
        "le projet\natlas",  # a line break between the words
        "le projet\u00a0atlas",  # a no-break space
        "le projet  atlas",
    ],
)
def test_scanner_finds_multi_word_sensitive_terms_accent_insensitively(text):
    scanner = IdentityScanner(sensitive_terms=["Projet Atlas", "Mme Lefèvre"])
    assert kinds_at(scanner, text) == [(3, HitKind.SENSITIVE_TERM)]


def test_scanner_finds_a_sensitive_term_written_with_its_accent_dropped():
    scanner = IdentityScanner(sensitive_terms=["Mme Lefèvre"])
    assert kinds_at(scanner, "avec mme lefevre") == [(5, HitKind.SENSITIVE_TERM)]


def test_scanner_finds_an_email_address():
    hits = IdentityScanner().scan("summary", "écrire à jo.doe+x@mail.example.fr.")
    assert [(h.offset, h.kind, h.shown) for h in hits] == [
        (9, HitKind.EMAIL, "jo.doe+x@mail.example.fr")
    ]


@pytest.mark.parametrize(
    "number",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "06-12-34-56-78",
        "01 45 67 89 10",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+33612345678",
        "06\u00a012\u00a034\u00a056\u00a078",  # French typography: no-break spaces
        "06\u202f12\u202f34\u202f56\u202f78",  # narrow no-break spaces
        "+44 20 7946 0958",
        "+254712345678",
        "+12345678",  # 8 digits: the shortest international number
        "+123456789012345",  # 15 digits: the longest
    ],
)
def test_scanner_finds_phone_numbers(number):
    hits = IdentityScanner().scan("summary", f"appelez le {number} demain")
    assert [(h.offset, h.kind, h.shown) for h in hits] == [(11, HitKind.PHONE, number)]


@pytest.mark.parametrize(
    "text",
    [
        "1 200 000 personnes",
        "en 2019",
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "260 000 en France",
        "de 45 à 90 millions",
        "épisode 3, 12:34:56",
    ],
)
def test_scanner_does_not_take_figures_for_phone_numbers(text):
    assert kinds_at(IdentityScanner(), text) == []


@pytest.mark.parametrize(
    "prefix", ["", "é", "e\u0301", "😀👩\u200d💻 ", "ŒUVRE ß ", "ﬁn ", "İ\u00ad\u200b"]
)
def test_scanner_offsets_are_offsets_in_the_original_text(prefix):
    scanner = IdentityScanner(
        legal_name="Élodie Martin",
        contact="Signal: elodie-md",
        sensitive_terms=["Projet Atlas"],
    )
    pieces = [
        ("Martin", HitKind.LEGAL_NAME),
        ("signal: ELODIE-MD", HitKind.CONTACT),
        ("projet atlas", HitKind.SENSITIVE_TERM),
        ("a@b.fr", HitKind.EMAIL),
        ("06 12 34 56 78", HitKind.PHONE),
    ]
    text, expected = prefix, []
    for piece, kind in pieces:
        text += " — "
        expected.append((len(text), kind))
        text += piece
    assert kinds_at(scanner, text) == expected


def test_hits_for_legal_name_and_contact_do_not_repeat_the_matched_text():
    scanner = IdentityScanner(legal_name="Élodie Martin", contact="Signal: elodie-md")
    hits = scanner.scan("title", "Martin, signal: elodie-md")
    assert [(h.kind, h.shown) for h in hits] == [
        (HitKind.LEGAL_NAME, ""),
        (HitKind.CONTACT, ""),
    ]
    assert all("artin" not in str(h) and "elodie" not in str(h) for h in hits)


def test_a_phone_number_that_is_the_contact_is_not_repeated_either():
    scanner = IdentityScanner(contact="06 12 34 56 78")
    hits = scanner.scan("summary", "au 06 12 34 56 78")
    assert [(h.offset, h.kind, h.shown) for h in hits] == [
        (3, HitKind.CONTACT, ""),
        (3, HitKind.PHONE, ""),
    ]


def test_an_email_address_holding_a_legal_name_part_is_not_repeated():
    hits = LEGAL.scan("summary", "dubois.e@example.org ou ami@example.org")
    assert [(h.offset, h.kind, h.shown) for h in hits] == [
        (0, HitKind.LEGAL_NAME, ""),
        (0, HitKind.EMAIL, ""),
        (24, HitKind.EMAIL, "ami@example.org"),
    ]


def test_a_sensitive_term_hit_shows_the_text_as_written():
    scanner = IdentityScanner(sensitive_terms=["Projet Atlas"])
    (hit,) = scanner.scan("title", "Le PROJET Âtlas.")
    assert (hit.place, hit.offset, hit.shown) == ("title", 3, "PROJET Âtlas")
    assert str(hit) == "title, offset 3: sensitive term 'PROJET Âtlas'"


def test_scan_all_names_each_hit_by_its_place():
    scanner = IdentityScanner(legal_name="Élodie Martin")
    hits = scanner.scan_all(
        [("title", "Élodie"), ("summary", ""), ("place", "x martin")]
    )
    assert [(h.place, h.offset) for h in hits] == [("title", 0), ("place", 2)]


def test_scanner_without_identity_still_finds_emails_and_phones():
    scanner = IdentityScanner(legal_name="", contact="", sensitive_terms=["", " "])
    assert kinds_at(scanner, "x@y.org 0612345678") == [
        (0, HitKind.EMAIL),
        (8, HitKind.PHONE),
    ]


@hypothesis_settings(max_examples=300)
@given(
    st.text(alphabet=TEXT_ALPHABET + "ÉÈÀŒİ\u00ad\u200bﬁ", max_size=20),
    st.sampled_from(["Élodie", "MARTIN", "dubois", "E\u0301LODIE"]),
)
def test_scanner_reports_a_name_part_at_its_original_offset(prefix, part):
    text = f"{prefix} {part} fin"
    hits = LEGAL.scan("segment", text)
    assert (len(prefix) + 1, HitKind.LEGAL_NAME) in [(h.offset, h.kind) for h in hits]


_FIELD_PIECES = st.sampled_from(
    [
        "Élodie",
        "martin",
        "Dubois",
        "06",
        "12",
        "+33",
        " ",
        ".",
        "-",
        "@",
        "x",
        "é",
        "\n",
    ]
)


@hypothesis_settings(max_examples=300)
@given(
    st.lists(st.lists(_FIELD_PIECES, max_size=12).map("".join), min_size=1, max_size=6)
)
def test_scanning_fields_together_finds_what_scanning_each_alone_finds(texts):
    scanner = IdentityScanner(
        legal_name="Élodie Martin-Dubois",
        contact="+33 6 12 12 12 12",
        sensitive_terms=["Martin Dubois"],
    )
    fields = [(f"field{index}", text) for index, text in enumerate(texts)]
    one_by_one = [hit for place, text in fields for hit in scanner.scan(place, text)]
    assert scanner.scan_all(fields) == one_by_one
