"""The search box's syntax (testimonies/search/query.py), and any string at all.

``parse`` reads websearch_to_tsquery's syntax once for every backend. Whatever
is typed, the archive answers with results or an empty page, never an error: a
property test throws a thousand strings at the backend of the test database.
"""

from collections.abc import Iterator

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from testimonies import search
from testimonies.models import Testimony
from testimonies.querysets import Tier
from testimonies.search import FACETS, SearchResults
from testimonies.search.query import MAX_ITEMS, MAX_QUERY_CHARS, Item, Query, parse

from ..factories import UserFactory
from .test_backends import Archive, build_archive


def clauses(*alternatives: str | tuple[str, ...]) -> tuple[tuple[Item, ...], ...]:
    """Words ANDed; a tuple is a clause of alternatives; quoted text a phrase."""

    def item(text: str) -> Item:
        if text.startswith('"'):
            return Item(text.strip('"'), phrase=True)
        return Item(text)

    return tuple(
        tuple(item(t) for t in (a if isinstance(a, tuple) else (a,)))
        for a in alternatives
    )


# --- Words, phrases, or ----------------------------------------------------------


def test_words_are_clauses_all_needed():
    assert parse("travail de nuit") == Query(clauses("travail", "de", "nuit"))


def test_white_space_of_any_kind_separates_words():
    assert parse("  travail\tde\nnuit\u00a0 ") == parse("travail de nuit")


def test_a_quoted_text_is_one_phrase():
    assert parse('vélo "salaire minimum" pluie') == Query(
        clauses("vélo", '"salaire minimum"', "pluie")
    )


def test_a_phrase_keeps_its_words_and_only_single_spaces():
    assert parse('"  salaire \t minimum "') == Query(clauses('"salaire minimum"'))


def test_an_unbalanced_quote_runs_to_the_end():
    assert parse('vélo "salaire minimum') == Query(clauses("vélo", '"salaire minimum"'))
    assert parse('"') == Query()


def test_a_quote_inside_a_word_ends_it_and_opens_a_phrase():
    assert parse('abc"def ghi" jkl') == Query(clauses("abc", '"def ghi"', "jkl"))


def test_or_joins_its_two_neighbours_into_alternatives():
    assert parse("vélo or scooter pluie") == Query(
        clauses(("vélo", "scooter"), "pluie")
    )
    assert parse("pluie vélo or scooter") == Query(
        clauses("pluie", ("vélo", "scooter"))
    )


def test_or_chains_alternatives():
    assert parse("a or b or c d") == Query(clauses(("a", "b", "c"), "d"))


@pytest.mark.parametrize("spelling", ["or", "OR", "Or", "oR"])
def test_or_is_read_whatever_its_case(spelling):
    assert parse(f"vélo {spelling} scooter") == Query(clauses(("vélo", "scooter")))


def test_or_joins_phrases_too():
    assert parse('vélo or "sous la pluie"') == Query(
        clauses(("vélo", '"sous la pluie"'))
    )


@pytest.mark.parametrize(
    "query",
    ["or vélo", "vélo or", "or vélo or", "OR or vélo", "vélo or OR", "or"],
)
def test_an_or_without_two_neighbours_is_ignored(query):
    expected = Query() if query == "or" else parse("vélo")
    assert parse(query) == expected


def test_a_double_or_is_one_or():
    assert parse("vélo or or scooter") == parse("vélo or scooter")
    assert parse("vélo OR or Or scooter") == parse("vélo or scooter")


def test_a_quoted_or_is_a_word():
    assert parse('vélo "or" scooter') == Query(clauses("vélo", '"or"', "scooter"))


def test_or_before_an_exclusion_is_ignored_exclusions_are_never_alternatives():
    assert parse("vélo or -pluie") == Query(
        clauses("vélo"), exclusions=(Item("pluie"),)
    )
    assert parse("-pluie or vélo") == parse("vélo -pluie")


# --- Exclusions ------------------------------------------------------------------


def test_a_minus_excludes_a_word():
    assert parse("vélo -pluie") == Query(clauses("vélo"), exclusions=(Item("pluie"),))


def test_a_minus_excludes_a_phrase():
    assert parse('vélo -"sous la pluie"') == Query(
        clauses("vélo"), exclusions=(Item("sous la pluie", phrase=True),)
    )


def test_a_lone_minus_is_ignored():
    assert parse("vélo - pluie") == parse("vélo pluie")
    assert parse("vélo -") == parse("vélo")
    assert parse("-") == parse("- -") == Query()


def test_a_minus_inside_a_word_is_part_of_it():
    assert parse("e-mail") == Query(clauses("e-mail"))


def test_a_minus_before_or_excludes_the_word_or():
    assert parse("vélo -or") == Query(clauses("vélo"), exclusions=(Item("or"),))


def test_only_exclusions_find_nothing():
    query = parse('-vélo -"sous la pluie"')
    assert query.finds_nothing
    assert not query.is_empty
    assert query.words() == []


@pytest.mark.parametrize("raw", [None, "", "   ", "\x00\t\n"])
def test_nothing_typed_is_the_empty_query_that_lists(raw):
    query = parse(raw)
    assert query.is_empty
    assert not query.finds_nothing


# --- What cannot be read ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "vélo , ; ! pluie",
        "vélo ... — pluie",
        'vélo "" pluie',
        'vélo " " pluie',
        "vélo -!!! pluie",
        'vélo -"?" pluie',
        "vélo -- pluie",
        "vélo *** pluie",
    ],
)
def test_punctuation_only_items_are_dropped(raw):
    assert parse(raw) == parse("vélo pluie")


def test_punctuation_only_queries_are_empty():
    assert parse('!?, ; "..." -— ***').is_empty


def test_punctuation_within_words_is_left_to_the_engines():
    assert parse("l'algorithme c*est (nuit)") == Query(
        clauses("l'algorithme", "c*est", "(nuit)")
    )


@pytest.mark.parametrize("between", [",", '""', "--", "—"])
def test_a_dropped_item_does_not_break_an_or(between):
    assert parse(f"vélo or {between} scooter") == parse("vélo or scooter")


@pytest.mark.parametrize(
    "control", ["\x00", "\x01", "\x07", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]
)
def test_control_characters_and_nul_separate_words(control):
    assert parse(f"vélo{control}pluie") == parse("vélo pluie")
    assert parse(f'"sous{control}la pluie"') == parse('"sous la pluie"')
    assert parse(control * 5) == Query()


# --- Bounds ----------------------------------------------------------------------


def test_only_the_first_characters_are_read():
    padding = "a" * (MAX_QUERY_CHARS - 1)
    assert parse(f"{padding} vélo").words() == [padding]
    assert parse("x" * 10_000) == Query(clauses("x" * MAX_QUERY_CHARS))
    # A phrase left open is cut at the same place.
    [[phrase]] = parse('"' + "ab " * 5000).clauses
    assert phrase.text == " ".join(("ab " * 5000)[: MAX_QUERY_CHARS - 1].split())


def test_at_most_max_items_are_kept_exclusions_included():
    words = [f"w{n}" for n in range(MAX_ITEMS + 10)]
    assert parse(" ".join(words)).words() == words[:MAX_ITEMS]
    excluded = parse(" ".join("-" + word for word in words))
    assert [item.text for item in excluded.exclusions] == words[:MAX_ITEMS]
    mixed = parse(
        " ".join(
            f"{a} or {b} -x{n}"
            for n, (a, b) in enumerate(zip(words[::2], words[1::2], strict=True))
        )
    )
    kept = [item for clause in mixed.clauses for item in clause]
    assert len(kept) + len(mixed.exclusions) == MAX_ITEMS


def test_dropped_items_do_not_count_towards_the_cap():
    assert parse(", " * (MAX_ITEMS + 5) + "vélo").words() == ["vélo"]


# --- What the engines are given ----------------------------------------------------


def test_every_item_is_quoted_for_postgresql():
    # Typed operators reach websearch_to_tsquery only inside quotes.
    query = parse('vélo or scooter pluie -"sous la pluie" -or NOT(x)')
    items = [item for clause in query.clauses for item in clause]
    quoted = [item.quoted() for item in items + list(query.exclusions)]
    assert quoted == [
        '"vélo"',
        '"scooter"',
        '"pluie"',
        '"NOT(x)"',
        '"sous la pluie"',
        '"or"',
    ]


def test_every_item_is_quoted_for_fts5():
    query = parse('vélo or scooter pluie -"sous la pluie" -or')
    assert query.to_fts5() == (
        '(("vélo" OR "scooter") AND ("pluie")) NOT ("sous la pluie" OR "or")'
    )


def test_engine_operators_typed_are_plain_words():
    query = parse("NEAR(a b) AND NOT c* col:d ^e")
    assert query.words() == ["NEAR(a", "b)", "AND", "NOT", "c*", "col:d", "^e"]
    assert query.exclusions == ()


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=("Cs",)))


@settings(max_examples=500, deadline=None)
@given(raw=ANY_TEXT | st.lists(st.sampled_from('"- or OR ab,')).map("".join))
def test_parse_reads_any_string_into_clean_quoted_items(raw):
    query = parse(raw)
    items = [item for clause in query.clauses for item in clause]
    items += list(query.exclusions)
    assert len(items) <= MAX_ITEMS
    assert all(clause for clause in query.clauses)
    for item in items:
        assert item.text == item.text.strip()
        assert '"' not in item.text
        assert any(ch.isalnum() for ch in item.text)
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in item.text)
        assert item.phrase or not any(ch.isspace() for ch in item.text)
    assert sum(len(item.text) for item in items) <= MAX_QUERY_CHARS
    query.to_fts5()
    assert query.is_empty == (not items)
    assert query.finds_nothing == (bool(items) and not query.clauses)


# --- Any string against the engine ---------------------------------------------------

ARCHIVE_WORDS = [
    "modérateur",
    "moderateur",
    "vélo",
    "plateforme",
    "platform",
    "algorithme",
    "salaire",
    "minimum",
    "zorglub",
    "nairobi",
    "le",
    "the",
    "Karim",
]
TOKENS = [
    '"',
    '""',
    "-",
    "--",
    "- ",
    "or",
    "OR",
    "Or",
    "AND",
    "NOT",
    "NEAR",
    "NEAR(",
    "(",
    ")",
    "*",
    "^",
    ":",
    "col:",
    "public_text:",
    "{",
    "}",
    "+",
    "!",
    "&",
    "|",
    "<->",
    ":*",
    "'",
    "';",
    ";",
    "\\",
    "%",
    "%s",
    "%(x)s",
    "?",
    "\x00",
    "\x1b",
    "\u200b",
    "\u00ad",
    "\ufeff",
    "\ue000",
    "\ue001",
    "\u0301",
    "🙂",
    "DROP TABLE testimonies_testimony;",
    "' OR 1=1 --",
    "); DELETE FROM search_segment; --",
]
TOKEN_SEQUENCES = st.lists(
    st.sampled_from(TOKENS + ARCHIVE_WORDS) | ANY_TEXT.filter(lambda s: len(s) < 6),
    max_size=40,
)
QUERIES = st.one_of(
    ANY_TEXT,
    TOKEN_SEQUENCES.map(" ".join),
    TOKEN_SEQUENCES.map("".join),
    # Very long strings: a repeated piece up to 10,000 characters.
    st.builds(
        lambda piece, length: (piece * length)[:length],
        st.sampled_from(TOKENS + ARCHIVE_WORDS + ["a ", '"a ', "-a ", "or "])
        | ANY_TEXT.filter(bool),
        st.integers(1_000, 10_000),
    ),
)
NAMED_CASES = [
    "",
    '"',
    '"""',
    '"unbalanced quote',
    "-",
    "- -",
    "--",
    "-vélo",
    "or",
    "OR or Or",
    "-or",
    "AND NOT",
    "NEAR(vélo pluie)",
    "vélo*",
    "^vélo",
    "public_text:vélo",
    "'",
    "'; DROP TABLE testimonies_testimony; --",
    '" OR 1=1 --',
    "%s %(x)s %% \\",
    "\x00",
    "vé\x00lo \x00pluie",
    "\x01\x02\x03\x1b[31m\x7f\x9f",
    "\ue000zorglub\ue001",
    "x" * 10_000,
    '"' * 10_000,
    "-" * 10_000,
    "or " * 3_400,
    "vélo " * 2_000,
    '"a ' * 3_400,
    "le -chef",
    "la or the",
    # Words longer than PostgreSQL indexes (2,047 bytes) within the cut.
    "中" * 1_000,
    "\U0001d400" * 1_000,
    '"' + "é" * 999,
]


@pytest.fixture(scope="module")
def archive(django_db_setup, django_db_blocker) -> Iterator[Archive]:
    """The contract's archive, built once; every test leaves it as it found it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_archive(UserFactory(groups=["curators"]))
        transaction.set_rollback(True)


def answer(raw: str, testimonies, page: int = 1) -> SearchResults:
    """Search; one savepoint each, so that an engine's error stays this one's."""
    with transaction.atomic():
        results = search.search(raw, testimonies, page=page)
    assert isinstance(results, SearchResults)
    assert results.query == parse(raw)
    ids = set(testimonies.values_list("pk", flat=True))
    assert 0 <= results.total <= len(ids)
    assert results.total_capped is False
    assert len(results.hits) <= results.page_size
    assert len(results.hits) <= max(0, results.total - (page - 1) * 20)
    assert {hit.testimony.pk for hit in results.hits} <= ids
    for hit in results.hits:
        assert len(hit.segments) <= 3
        for segment in hit.segments:
            assert isinstance(segment.snippet.raw, str)
            assert segment.snippet.html()
    assert set(results.facets) == set(FACETS)
    if results.query.finds_nothing:
        assert (results.total, results.hits) == (0, [])
    if results.query.is_empty:
        assert results.total == len(ids)
    return results


@pytest.mark.django_db
@pytest.mark.parametrize("raw", NAMED_CASES, ids=lambda raw: repr(raw[:20]))
def test_each_named_case_gives_results_or_an_empty_page(archive, raw):
    for testimonies in (
        Testimony.objects.all(),
        Testimony.objects.visible_to_tier(Tier.PUBLIC),
    ):
        answer(raw, testimonies)


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["vélo\udcff", "\ud800a"])
def test_a_lone_surrogate_gives_an_empty_page_not_an_error(archive, raw):
    answer(raw, Testimony.objects.all())


@pytest.mark.django_db
@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=QUERIES, page=st.sampled_from((1, 1, 1, 2)))
@example(raw="salaire or vélo pluie", page=1)
@example(raw="\x00" * 10_000, page=1)
def test_any_string_gives_results_or_an_empty_page_never_an_error(
    archive, anonymous, raw, page
):
    answer(raw, Testimony.objects.all(), page)
    answer(raw, Testimony.objects.visible_to(anonymous), page)
