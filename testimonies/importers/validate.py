"""Structural and in-document validation of a `testimony-bundle/1` document.

Nothing here touches the database (only the archive's rule for reference codes is
read from its models): references to job types, themes, narrators or
episodes that the bundle does not define are left for the importer to resolve.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match

from ..models import REFERENCE_CODE_LENGTH, normalise_reference_code

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1] / "schemas/testimony-bundle-1.schema.json"
)

PathParts = tuple[str | int, ...]


class BundleError(ValueError):
    """A refused bundle, with the JSON path of its first bad value."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

    def __reduce__(self):
        return type(self), (self.path, self.message)


class _Problem(NamedTuple):
    path: PathParts
    message: str
    # A key of the object at `path` that places the problem in document order
    # (an unknown key is reported at its object but sits where the key is).
    key: str | None = None


# Reading


class _Refused:
    """Stands in for a value the parser met but must refuse, until its path is known."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _DuplicateKeys(dict):
    duplicate: str = ""


def load_bundle_json(raw: bytes | str) -> dict:
    """Parse a bundle's JSON text, refusing what JSON itself lets through loosely."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, column = _line_column(raw, exc.start)
            raise BundleError(
                "$", f"not valid UTF-8 at line {line}, column {column}"
            ) from None
    else:
        text = raw
    # RFC 8259 lets a parser ignore a byte order mark; some editors still write one.
    text = text.removeprefix("\ufeff")

    refused = False

    def constant(name: str) -> _Refused:
        nonlocal refused
        refused = True
        return _Refused(f"{name} is not allowed: numbers must be finite")

    def pairs(items: list[tuple[str, Any]]) -> dict:
        nonlocal refused
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        refused = True
        seen: set[str] = set()
        marked = _DuplicateKeys(obj)
        marked.duplicate = next(k for k, _ in items if k in seen or seen.add(k))
        return marked

    try:
        data = json.loads(text, parse_constant=constant, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise BundleError(
            "$", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise BundleError("$", "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise BundleError("$", f"invalid JSON: {exc}") from None
    if refused:
        _raise_first_refused(data)
    if not isinstance(data, dict):
        raise BundleError("$", f"must be an object, not {_show(data)}")
    return data


def _line_column(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    # Everything before the first bad byte decodes, so columns count characters
    # like the JSON decoder's own.
    column = len(raw[line_start:offset].decode("utf-8")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def _raise_first_refused(data: Any) -> None:
    stack: list[tuple[PathParts, Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, _Refused):
            raise BundleError(_format_path(path), node.message)
        if isinstance(node, _DuplicateKeys):
            raise BundleError(
                _format_path(path), f"duplicate key {_quote(node.duplicate)}"
            )
        if isinstance(node, dict):
            children = [(path + (k,), v) for k, v in node.items()]
        elif isinstance(node, list):
            children = [(path + (i,), v) for i, v in enumerate(node)]
        else:
            continue
        stack.extend(reversed(children))


# Validating


def validate_bundle(data: Any) -> None:
    """Raise BundleError for the first bad value of the bundle in document order."""
    problems = _schema_problems(data)
    problems.extend(_semantic_problems(data))
    if problems:
        # Schema problems come first in the list, so they win a tie at one place.
        _, first = min(
            enumerate(problems), key=lambda item: (_position(data, item[1]), item[0])
        )
        raise BundleError(_format_path(first.path), first.message)


def _position(data: Any, problem: _Problem) -> tuple[int, ...]:
    parts = problem.path if problem.key is None else (*problem.path, problem.key)
    position: list[int] = []
    node = data
    for part in parts:
        if isinstance(node, dict):
            index = next((i for i, k in enumerate(node) if k == part), None)
            if index is None:  # a missing key sorts with its object
                break
            position.append(index)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int):
            position.append(part)
            node = node[part]
        else:
            break
    return tuple(position)


def _format_path(parts: Iterable[str | int]) -> str:
    out = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{_quote(part)}]")
    return "".join(out) or "$"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# The schema


def _is_number(checker, instance: Any) -> bool:
    # JSON has no NaN or infinity: one reaching here came from Python, not a file.
    if isinstance(instance, float):
        return math.isfinite(instance)
    return _is_integer(checker, instance)


def _is_integer(checker, instance: Any) -> bool:
    # An integer too large for a float would overflow in the database. Refused
    # as a type, not by `maximum`: jsonschema skips its bounds for any value that
    # is not a "number", so a type that let it through would go unchecked.
    return _is_int(instance) and _fits_a_float(instance)


def _is_int(value: Any) -> bool:
    # JSON Schema counts 1.0 as an integer; the importer uses these as indices.
    return isinstance(value, int) and not isinstance(value, bool)


def _fits_a_float(value: int) -> bool:
    return -sys.float_info.max <= value <= sys.float_info.max


def _pattern(validator, pattern: str, instance: Any, schema: dict) -> Iterator:
    if validator.is_type(instance, "string") and not _regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _regex(pattern: str) -> re.Pattern:
    # JSON Schema patterns are ECMA-262, where `$` matches only at the very end;
    # Python's also matches before a final newline and would pass "slug\n".
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


_BundleValidator = validators.extend(
    Draft202012Validator,
    validators={"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"number": _is_number, "integer": _is_integer}
    ),
)


class _Validators(NamedTuple):
    full: Draft202012Validator
    # The full schema less the segments' subschema, which jsonschema checks too
    # slowly for transcripts of tens of thousands of segments.
    fast: Draft202012Validator
    segment: Draft202012Validator
    segment_keys: frozenset[str]
    speakers: frozenset[str]


@functools.cache
def _validators() -> _Validators:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    _BundleValidator.check_schema(schema)
    fast = copy.deepcopy(schema)
    fast["$defs"]["testimony"]["properties"]["segments"] = {"type": "array"}
    segment = schema["$defs"]["segment"]
    return _Validators(
        full=_BundleValidator(schema),
        fast=_BundleValidator(fast),
        segment=_BundleValidator({"$ref": "#/$defs/segment", "$defs": schema["$defs"]}),
        segment_keys=frozenset(segment["properties"]),
        speakers=frozenset(segment["properties"]["speaker"]["enum"]),
    )


def _schema_problems(data: Any, *, fast: bool = True) -> list[_Problem]:
    checks = _validators()
    if not fast:
        return [_problem(error) for error in checks.full.iter_errors(data)]
    problems = [_problem(error) for error in checks.fast.iter_errors(data)]
    for path, segments in _segment_lists(data):
        for index, segment in enumerate(segments):
            if _plain_segment(segment, checks):
                continue
            errors = list(checks.segment.iter_errors(segment))
            if errors:
                problems.extend(_problem(e, (*path, index)) for e in errors)
                # Later segments of this list cannot come earlier in the document.
                break
    return problems


def _segment_lists(data: Any) -> Iterator[tuple[PathParts, list]]:
    if isinstance(data, dict) and isinstance(data.get("testimonies"), list):
        for index, testimony in enumerate(data["testimonies"]):
            if isinstance(testimony, dict) and isinstance(
                testimony.get("segments"), list
            ):
                yield ("testimonies", index, "segments"), testimony["segments"]


def _plain_segment(segment: Any, checks: _Validators) -> bool:
    # True only for what the segment subschema surely accepts; anything else goes
    # to jsonschema, so both paths give the same messages.
    if type(segment) is not dict or segment.keys() != checks.segment_keys:
        return False
    speaker = segment["speaker"]
    return (
        _is_time(segment["start"])
        and _is_time(segment["end"])
        and type(speaker) is str
        and speaker in checks.speakers
        and type(segment["text"]) is str
    )


def _is_time(value: Any) -> bool:
    if type(value) is float:
        return 0 <= value < math.inf  # NaN fails the comparison
    # An integer beyond the largest float would overflow once stored.
    return type(value) is int and 0 <= value <= sys.float_info.max


# From jsonschema's errors to readable messages


def _problem(error: ValidationError, prefix: PathParts = ()) -> _Problem:
    if error.validator in ("anyOf", "oneOf") and error.context:
        return _problem(best_match(error.context), prefix)
    path = (*prefix, *error.absolute_path)
    keyword, schema, value = error.validator, error.schema, error.instance
    if keyword == "additionalProperties":
        known = schema.get("properties", {})
        unknown = next(k for k in value if k not in known)
        return _Problem(path, f"unknown key {_quote(unknown)}", unknown)
    if keyword == "required":
        missing = next(k for k in error.validator_value if k not in value)
        return _Problem(path, f"required key {_quote(missing)} is missing")
    if keyword == "dependentRequired":
        given, missing = next(
            (key, need)
            for key, needs in error.validator_value.items()
            if key in value
            for need in needs
            if need not in value
        )
        return _Problem(
            (*path, given),
            f"needs {_quote(missing)} beside it: a silenced range gives both "
            "ends, or neither",
        )
    if keyword == "not" and "required" in error.validator_value:
        # The schema's `not` applies to objects only, so `value` is one.
        keys = error.validator_value["required"]
        later = max(keys, key=list(value).index)
        names = " and ".join(_quote(k) for k in keys)
        return _Problem(path, f"{names} cannot both be given", later)
    if keyword == "maximum" or (
        # An integer beyond float range fails as a type; say what bounds it.
        keyword == "type" and _is_int(value) and value > schema.get("maximum", math.inf)
    ):
        return _Problem(
            path, f"must be at most {schema['maximum']}, not {_show(value)}"
        )
    if keyword in ("type", "minimum", "multipleOf"):
        return _Problem(path, f"must be {_expected(schema)}, not {_show(value)}")
    if keyword == "enum":
        choices = ", ".join(str(choice) for choice in error.validator_value)
        return _Problem(path, f"must be one of {choices}, not {_show(value)}")
    if keyword == "const":
        return _Problem(
            path, f"must be {_show(error.validator_value)}, not {_show(value)}"
        )
    if keyword == "pattern":
        expected = schema.get("description", f"of the form {error.validator_value}")
        return _Problem(path, f"{_show(value)} is not {expected}")
    if keyword == "minLength":
        return _Problem(path, "must not be empty")
    if keyword == "maxLength":
        return _Problem(path, f"must be at most {error.validator_value} characters")
    if keyword == "minProperties" and "properties" in schema:
        keys = " or ".join(_quote(k) for k in schema["properties"])
        return _Problem(path, f"needs {keys}")
    return _Problem(path, error.message)


_TYPE_NAMES = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "object": "an object",
    "array": "a list",
    "boolean": "true or false",
    "null": "null",
}


def _expected(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_TYPE_NAMES.get(k, k) for k in kind)
    if kind in ("number", "integer"):
        text = "a number" if kind == "number" else "an integer"
        if "multipleOf" in schema:
            text += f" multiple of {schema['multipleOf']}"
        if "minimum" in schema:
            text += f" >= {schema['minimum']}"
        return text
    if kind == "string" and "description" in schema:
        return schema["description"]
    return _TYPE_NAMES.get(kind, "something else")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _quote(key: Any) -> str:
    return json.dumps(key, ensure_ascii=False) if isinstance(key, str) else str(key)


# Checks a schema cannot express. They read defensively: the schema reports any
# value of the wrong shape, and these only look at values of the right one.


def _semantic_problems(data: Any) -> Iterator[_Problem]:
    if not isinstance(data, dict):
        return
    yield from _unique(_objects(data, "job_types"), ("job_types",), "slug")
    themes = _objects(data, "themes")
    yield from _unique(themes, ("themes",), "slug")
    yield from _theme_parents(themes)
    series_list = _objects(data, "series")
    yield from _unique(series_list, ("series",), "slug")
    for i, series in series_list:
        episodes_path = ("series", i, "episodes")
        episodes = _objects(series, "episodes")
        yield from _unique(episodes, episodes_path, "slug")
        yield from _unique(episodes, episodes_path, "number")
        for j, episode in episodes:
            yield from _date(episode, (*episodes_path, j), "broadcast_on")
    narrators = _objects(data, "narrators")
    yield from _unique(narrators, ("narrators",), "key")
    for i, narrator in narrators:
        yield from _unique_items(narrator, ("narrators", i), "job_types")
        yield from _reference_code(narrator, ("narrators", i))
    testimonies = _objects(data, "testimonies")
    yield from _unique(testimonies, ("testimonies",), "slug")
    for i, testimony in testimonies:
        yield from _testimony(testimony, ("testimonies", i))
    yield from _unstorable_strings(data)


def _objects(container: dict, key: str) -> list[tuple[int, dict]]:
    items = container.get(key)
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]


def _unique(
    items: list[tuple[int, dict]], path: PathParts, field: str
) -> Iterator[_Problem]:
    seen: dict[str | int, int] = {}
    for index, item in items:
        value = item.get(field)
        if not isinstance(value, str) and not _is_int(value):
            continue
        if value in seen:
            first = _format_path((*path, seen[value]))
            yield _Problem(
                (*path, index, field),
                f"duplicate {field} {_show(value)}, already given at {first}",
            )
        else:
            seen[value] = index


def _unique_items(container: dict, path: PathParts, field: str) -> Iterator[_Problem]:
    items = container.get(field)
    if not isinstance(items, list):
        return
    seen: set[str] = set()
    for index, value in enumerate(items):
        if not isinstance(value, str):
            continue
        if value in seen:
            yield _Problem((*path, field, index), f"{_show(value)} is listed twice")
        seen.add(value)


def _reference_code(narrator: dict, path: PathParts) -> Iterator[_Problem]:
    # A code that normalises to little or nothing would be stored as the hash of
    # next to nothing and match whatever else normalises the same; the archive's
    # own codes are REFERENCE_CODE_LENGTH letters and digits. The messages never
    # repeat the code: it is a secret.
    code = narrator.get("reference_code")
    if not isinstance(code, str) or not code:  # the schema reports those
        return
    clear = normalise_reference_code(code)
    if len(clear) < REFERENCE_CODE_LENGTH:
        yield _Problem(
            (*path, "reference_code"),
            f"must hold at least {REFERENCE_CODE_LENGTH} letters or digits "
            "once spaces and dashes are removed",
        )
    elif not clear.isalnum():
        yield _Problem(
            (*path, "reference_code"),
            "must hold only letters or digits once spaces and dashes are removed",
        )


def _theme_parents(themes: list[tuple[int, dict]]) -> Iterator[_Problem]:
    # Longer loops may pass through stored themes; the importer follows those.
    for index, theme in themes:
        parent = theme.get("parent")
        if isinstance(parent, str) and parent == theme.get("slug"):
            yield _Problem(
                ("themes", index, "parent"), "a theme cannot be its own parent"
            )


def _testimony(testimony: dict, path: PathParts) -> Iterator[_Problem]:
    yield from _date(testimony, path, "recorded_on")
    yield from _datetime(testimony, path, "published_at")
    yield from _datetime(testimony, path, "embargo_until")
    yield from _unique_items(testimony, path, "themes")
    yield from _consent(testimony, path)
    for index, appearance in _objects(testimony, "appearances"):
        start, end = appearance.get("start"), appearance.get("end")
        if _is_time(start) and _is_time(end) and end < start:
            yield _Problem(
                (*path, "appearances", index, "end"),
                f"must not be before start ({_show(end)} < {_show(start)})",
            )
    segments = testimony.get("segments")
    if isinstance(segments, list):
        yield from _segments(segments, (*path, "segments"))
        yield from _redactions(testimony, path, segments)


def _date(container: dict, path: PathParts, field: str) -> Iterator[_Problem]:
    value = container.get(field)
    if isinstance(value, str) and _calendar_date(value) is None:
        yield _Problem((*path, field), f"{_show(value)} is not a real calendar date")


def _calendar_date(value: Any) -> date | None:
    try:
        parsed = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    # fromisoformat also reads forms such as 20230101 or 2023-W01-1.
    return parsed if parsed.isoformat() == value else None


def _datetime(container: dict, path: PathParts, field: str) -> Iterator[_Problem]:
    value = container.get(field)
    if not isinstance(value, str):
        return
    try:
        parsed = datetime.fromisoformat(
            value[:-1] + "+00:00" if value.endswith("Z") else value
        )
    except ValueError:
        yield _Problem((*path, field), f"{_show(value)} is not a real date and time")
        return
    if parsed.utcoffset() is None:
        yield _Problem((*path, field), "needs an offset, such as Z or +01:00")
        return
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        yield _Problem((*path, field), f"{_show(value)} is out of range in UTC")


def _consent(testimony: dict, path: PathParts) -> Iterator[_Problem]:
    latest: tuple[date, int] | None = None
    for index, record in _objects(testimony, "consent"):
        record_path = (*path, "consent", index)
        yield from _date(record, record_path, "given_on")
        given = _calendar_date(record.get("given_on"))
        if given is None:
            continue
        if latest is not None and given < latest[0]:
            yield _Problem(
                (*record_path, "given_on"),
                f"goes back in time: {given} is before {latest[0]} of consent"
                f"[{latest[1]}]; records are listed in the order recorded",
            )
        else:
            latest = (given, index)


def _segments(segments: list, path: PathParts) -> Iterator[_Problem]:
    previous = None
    for index, segment in enumerate(segments):
        if type(segment) is not dict:
            continue
        start, end = segment.get("start"), segment.get("end")
        if not _is_time(start):
            continue
        found = False
        if previous is not None and start < previous:
            found = True
            yield _Problem(
                (*path, index, "start"),
                f"segments must be listed in order of start ({_show(start)} <"
                f" {_show(previous)}, the start of an earlier segment)",
            )
        if _is_time(end) and end < start:
            found = True
            yield _Problem(
                (*path, index, "end"),
                f"must not be before start ({_show(end)} < {_show(start)})",
            )
        if found:
            return  # nothing further down this list can come earlier
        previous = start


def _redactions(testimony: dict, path: PathParts, segments: list) -> Iterator[_Problem]:
    media = testimony.get("media")
    duration = media.get("duration") if isinstance(media, dict) else None
    for index, redaction in _objects(testimony, "redactions"):
        redaction_path = (*path, "redactions", index)
        yield from _media_range(redaction, redaction_path, duration)
        number = redaction.get("segment")
        if not _is_int(number) or number < 0:
            continue
        if number >= len(segments):
            yield _Problem(
                (*redaction_path, "segment"),
                f"no segment {number} (the testimony has {len(segments)})",
            )
            continue
        segment = segments[number]
        text = segment.get("text") if isinstance(segment, dict) else None
        start, end = redaction.get("start"), redaction.get("end")
        end_ok = _is_int(end) and end >= 0
        if _is_int(start) and start >= 0 and end_ok and start >= end:
            yield _Problem(
                (*redaction_path, "start"),
                f"must be less than end ({start} >= {end})",
            )
        if end_ok and isinstance(text, str) and end > len(text):
            yield _Problem(
                (*redaction_path, "end"),
                f"beyond the segment's text ({end} > {len(text)})",
            )


def _media_range(redaction: dict, path: PathParts, duration: Any) -> Iterator[_Problem]:
    """The silenced range: after its start, within the media's declared
    duration (the importer also holds it to the duration read from the file)."""
    start, end = redaction.get("media_start"), redaction.get("media_end")
    if not _is_time(end):
        return
    if _is_time(start) and end <= start:
        yield _Problem(
            (*path, "media_end"),
            f"must be after media_start ({_show(end)} <= {_show(start)})",
        )
    elif _is_time(duration) and end > duration:
        yield _Problem(
            (*path, "media_end"),
            f"beyond the media's duration ({_show(end)} > {_show(duration)})",
        )


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_strings(data: Any) -> Iterator[_Problem]:
    # A JSON escape can produce a NUL or half a surrogate pair; neither can be
    # stored (PostgreSQL refuses NUL in text, UTF-8 refuses lone surrogates).
    # Paths cost more than the search, so they are built only once one is found.
    if not _any_unstorable(data):
        return
    stack: list[tuple[PathParts, Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            found = _UNSTORABLE.search(node)
            if found:
                char = f"\\u{ord(found.group()):04x}"
                yield _Problem(path, f"contains {char}, which cannot be stored")
        elif isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))


def _any_unstorable(data: Any) -> bool:
    search = _UNSTORABLE.search
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if search(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
