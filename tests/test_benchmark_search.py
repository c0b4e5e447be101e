"""The search benchmark runs end to end on a tiny archive; no timing is asserted."""

import json
import random
import re
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks import search as benchmark
from benchmarks.search import CLASSES

FOUND_CLASSES = ("very_common", "common", "rare", "and2", "and3", "phrase")
# Stands for the time of a request, which differs between two runs.
NOW = object()
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?")


def steady(params) -> list:
    """Statement parameters with the request's time (SQLite: as text) as NOW."""
    return [
        NOW
        if isinstance(p, datetime) or (isinstance(p, str) and TIMESTAMP.fullmatch(p))
        else p
        for p in params
    ]


@pytest.fixture
def tiny_archive():
    call_command("seed_corpus", testimonies=6, minutes=2, stdout=StringIO())


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]
    assert benchmark.percentile(values, 50) == 50
    assert benchmark.percentile(values, 95) == 95
    assert benchmark.percentile([3.0, 1.0, 2.0], 50) == 2
    assert benchmark.percentile([7.0], 99) == 7
    assert benchmark.percentile([], 50) is None


@pytest.mark.parametrize("total", [9, 20, 37, 100, 250])
def test_class_sizes_add_up_with_every_class_present(total):
    sizes = benchmark.class_sizes(total)
    assert sum(sizes.values()) == total
    assert set(sizes) == set(CLASSES)
    assert min(sizes.values()) >= 1


def test_the_mix_of_100_is_the_issue_s_mix():
    assert benchmark.class_sizes(100) == {
        "very_common": 10,
        "common": 15,
        "rare": 15,
        "and2": 12,
        "and3": 8,
        "phrase": 12,
        "or": 8,
        "not": 8,
        "filtered": 12,
    }


def test_fewer_queries_than_classes_is_refused_before_any_work():
    with pytest.raises(CommandError, match="one per class"):
        call_command("benchmark_search", queries=len(CLASSES) - 1)


@pytest.mark.django_db
def test_the_mix_is_the_same_every_time_and_its_words_find_testimonies(
    tiny_archive,
):
    def draw():
        corpus = benchmark.read_corpus()
        builder = benchmark.MixBuilder(corpus, random.Random(benchmark.SEED))
        return builder.build(30)

    queries = draw()
    assert queries == draw()
    assert {q.kind for q in queries} == set(CLASSES)
    # Words and phrases are drawn from public text through the engine's own
    # analyser, so each finds at least the testimony it was read in.
    for query in queries:
        if query.kind in FOUND_CLASSES:
            assert benchmark.run_search(query) >= 1, query


# Client threads open their own connections: they see only committed data.
@pytest.mark.django_db(transaction=True)
def test_benchmark_reports_every_class_for_every_measure(tiny_archive, tmp_path):
    out = StringIO()
    path = tmp_path / "bench.json"
    call_command(
        "benchmark_search",
        json=str(path),
        runs=1,
        naive_sample=2,
        clients="1,2",
        queries=20,
        stdout=out,
        verbosity=0,
    )
    report = json.loads(path.read_text(encoding="utf-8"))

    assert report["classes"] == benchmark.class_sizes(20)
    queries = report["queries"]
    assert len(queries) == 20
    # Each class's figures are summed up from its own queries' figures: by
    # nearest rank, every percentile is one of them.
    figures = {
        ("search", "warm_1"): lambda q: q["warm_ms"]["1"],
        ("search", "warm_2"): lambda q: q["warm_ms"]["2"],
        ("search", "cold"): lambda q: q["cold_ms"],
        ("floor",): lambda q: q["floor_ms"],
        ("ranking",): lambda q: q["ranking_ms"],
    }
    for where, figure in figures.items():
        stats = report[where[0]][where[1]] if len(where) > 1 else report[where[0]]
        assert set(stats) == {*CLASSES, "all"}
        for kind in (*CLASSES, "all"):
            own = [figure(q) for q in queries if kind in ("all", q["kind"])]
            assert stats[kind]["n"] == len(own), (where, kind)
            assert {stats[kind][p] for p in ("p50", "p95", "p99")} <= set(own)
            assert stats[kind]["p50"] <= stats[kind]["p95"] <= stats[kind]["p99"]
        for kind in CLASSES:
            assert stats[kind]["n"] == report["classes"][kind]
    # The naive scan runs on the queries spread over the classes, and only those.
    scanned = {q["id"] for q in queries if q["naive_ms"] is not None}
    mix = [benchmark.BenchQuery(q["id"], q["kind"], q["text"]) for q in queries]
    assert scanned == {q.id for q in benchmark.naive_subset(mix, 2)}
    assert len(scanned) == 2
    ratios = report["ratios"]
    search_p50 = report["search"]["warm_1"]["all"]["p50"]
    assert ratios["search_over_floor_p50"] == pytest.approx(
        search_p50 / report["floor"]["all"]["p50"]
    )
    assert ratios["search_over_ranking_p50"] == pytest.approx(
        search_p50 / report["ranking"]["all"]["p50"]
    )
    assert set(report["throughput_qps"]) == {"1", "2"}

    # Which way each query found its testimonies (PostgreSQL has two).
    configurations = {"archive_fr", "archive_en", "archive_simple"}
    asked = [q for q in report["queries"] if q["asked"]]
    assert all(set(q["asked"]) <= configurations for q in asked)
    if connection.vendor != "postgresql":
        assert asked == []

    table = out.getvalue()
    for kind in (*CLASSES, "all", "naive", "floor"):
        assert kind in table
    speed = benchmark._ms(report["machine"]["database_speed_ms"])
    assert f"generated rows in {speed} ms" in table
    qps = report["throughput_qps"]
    assert f"1 client {qps['1']:.1f} queries/s, 2 clients {qps['2']:.1f}" in table
    assert ("by asking the testimonies" in table) == bool(asked)


@pytest.mark.django_db
def test_the_floor_is_the_statement_the_search_runs(tiny_archive):
    """The floor is no easier than the search: on PostgreSQL it is the very
    statement the search sends for a first page, and the only one (the rows of
    the testimonies shown come back in it); on SQLite, the ranking statement of
    its search."""
    corpus = benchmark.read_corpus()
    builder = benchmark.MixBuilder(corpus, random.Random(benchmark.SEED))
    query = next(q for q in builder.build(20) if q.kind == "common")
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, steady(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert benchmark.run_search(query) >= 1
    statement, params = benchmark.floor_statement(query)
    params = steady(params)
    if connection.vendor == "postgresql":
        assert sent == [(statement, params)]
        assert "ts_headline" in statement and "facet" in statement
    else:
        ranking = statement.rsplit(" LIMIT ", 1)[0]
        assert (ranking, params) in sent
