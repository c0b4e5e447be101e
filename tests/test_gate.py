"""The publication gate's identity scan (testimonies/gate.py): pure functions."""

import ast
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from testimonies.gate import HitKind, IdentityScanner, refusal_text, segment_place

from .test_redaction import TEXT_ALPHABET

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


def test_a_sensitive_term_hit_shows_the_text_as_written(english):
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


@pytest.mark.parametrize(
    "language, expected",
    [
        (
            "fr",
            "publication refusée, 2 éléments exposeraient le narrateur : "
            "title, position 3 : terme sensible 'Projet Atlas'; "
            "segments[4] (à 75.5 s), position 0 : nom légal",
        ),
        (
            "en",
            "publication refused, 2 items would expose the narrator: "
            "title, offset 3: sensitive term 'Projet Atlas'; "
            "segments[4] (at 75.5 s), offset 0: legal name",
        ),
    ],
)
def test_the_refusal_reads_in_the_curators_language(language, expected):
    scanner = IdentityScanner(legal_name="Élodie", sensitive_terms=["Projet Atlas"])
    with translation.override(language):
        hits = scanner.scan_all(
            [("title", "Le Projet Atlas."), (segment_place(4, 75.5), "Élodie parle.")]
        )
        assert refusal_text(hits) == expected


# --- One gate, asked by every path to publication ------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "testimonies"


def imported_modules(path: Path) -> set[str]:
    """The archive's modules a source file imports, as dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("testimonies")}


def test_services_and_importers_do_not_import_each_other():
    services = imported_modules(PACKAGE / "services.py")
    assert not {m for m in services if m.startswith("testimonies.importers")}
    for path in (PACKAGE / "importers").glob("*.py"):
        assert "testimonies.services" not in imported_modules(path), path.name


@pytest.mark.parametrize("module", ["services.py", "admin.py", "importers/bundle.py"])
def test_every_path_to_publication_asks_the_one_gate(module):
    imports = imported_modules(PACKAGE / module)
    assert any(m.startswith("testimonies.gate") for m in imports)
