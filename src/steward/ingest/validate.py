"""The checks of an interface file, compiled to one set-based pass over ``raw_fields``.

Each field's rules become SQL predicates that yield a problem (field, code, reason) or NULL;
one SELECT collects every problem of every row, so a file is scanned once whatever the number
of rules. Row-to-row checks (duplicate keys, references to subscribers and products) follow
on the typed rows. Only our schema's names and constants enter the SQL text; delivered values
stay data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from steward.ingest.schemas import Field, FieldType, Interface

VALUE_SHOWN = 40

DATE_FORMATS = "['%Y-%m-%d', '%Y%m%d']"
TIMESTAMP_FORMATS = (
    "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y%m%d%H%M%S']"
)
BOOL_TRUE = ("1", "true", "t", "y", "yes")
BOOL_FALSE = ("0", "false", "f", "n", "no")


@dataclass(frozen=True)
class Check:
    """One rule: when ``failing`` holds, the row gets ``reason`` under ``code``."""

    field: str
    code: str
    failing: str
    reason: str


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


NATIVE_SQL_TYPES = {
    FieldType.INT: "BIGINT",
    FieldType.FLOAT: "DOUBLE",
    FieldType.BOOL: "BOOLEAN",
    FieldType.DATE: "DATE",
    FieldType.TIMESTAMP: "TIMESTAMP",
}


def typed(field: Field, native: bool = False) -> str:
    """The SQL that turns the field's text into its type (NULL when it does not parse).

    A ``native`` column already has the field's type (a typed Parquet column): it is only
    widened, never parsed from text.
    """
    value = column(field.name)
    if native and field.type is not FieldType.TEXT:
        return f"CAST({value} AS {NATIVE_SQL_TYPES[field.type]})"
    match field.type:
        case FieldType.TEXT:
            return value
        case FieldType.INT:
            # TRY_CAST rounds '1.5' to 2; an integer field takes digits only.
            return (
                f"CASE WHEN regexp_full_match({value}, '[+-]?[0-9]+') "
                f"THEN TRY_CAST({value} AS BIGINT) END"
            )
        case FieldType.FLOAT:
            return f"TRY_CAST({value} AS DOUBLE)"
        case FieldType.BOOL:
            trues = ", ".join(literal(t) for t in BOOL_TRUE)
            falses = ", ".join(literal(f) for f in BOOL_FALSE)
            return (
                f"CASE WHEN lower({value}) IN ({trues}) THEN TRUE "
                f"WHEN lower({value}) IN ({falses}) THEN FALSE END"
            )
        case FieldType.DATE:
            return f"CAST(TRY_STRPTIME({value}, {DATE_FORMATS}) AS DATE)"
        case FieldType.TIMESTAMP:
            return f"TRY_STRPTIME({value}, {TIMESTAMP_FORMATS})"


def _shown(field: Field) -> str:
    value = column(field.name)
    return f"'''' || left(CAST({value} AS VARCHAR), {VALUE_SHOWN}) || ''''"


def field_checks(field: Field, file_day: date, native: bool = False) -> list[Check]:
    """Every rule one field's value must pass, in the order a person would fix them."""
    value, shown, as_type = column(field.name), _shown(field), typed(field, native)
    checks: list[Check] = []
    if field.required:
        checks.append(Check(field.name, "required", f"{value} IS NULL", "'is required'"))
    if field.type is not FieldType.TEXT and not native:
        checks.append(
            Check(
                field.name,
                "type",
                f"{value} IS NOT NULL AND {as_type} IS NULL",
                f"{shown} || ' is not a valid {field.type.value}'",
            )
        )
    if field.type is FieldType.FLOAT:
        checks.append(
            Check(field.name, "type", f"NOT isfinite({as_type})", f"{shown} || ' is not finite'")
        )
    checks += _range_checks(field, as_type, shown)
    checks += _text_checks(field, value, shown)
    if field.not_after_file_date:
        checks.append(
            Check(
                field.name,
                "date",
                f"{as_type} > DATE {literal(file_day.isoformat())}",
                f"{shown} || ' lies after the file''s date {file_day.isoformat()}'",
            )
        )
    return checks


def _range_checks(field: Field, as_type: str, shown: str) -> list[Check]:
    # NaN compares above every number in SQL; it is reported as "not finite" instead.
    if field.type is FieldType.FLOAT:
        as_type = f"CASE WHEN isfinite({as_type}) THEN {as_type} END"
    checks = []
    if field.min is not None:
        checks.append(
            Check(
                field.name,
                "range",
                f"{as_type} < {field.min!r}",
                f"{shown} || ' is below the minimum {field.min:g}'",
            )
        )
    if field.max is not None:
        checks.append(
            Check(
                field.name,
                "range",
                f"{as_type} > {field.max!r}",
                f"{shown} || ' is above the maximum {field.max:g}'",
            )
        )
    return checks


def _text_checks(field: Field, value: str, shown: str) -> list[Check]:
    checks = []
    if field.max_length is not None:
        checks.append(
            Check(
                field.name,
                "length",
                f"length({value}) > {field.max_length}",
                f"'is longer than {field.max_length} characters'",
            )
        )
    if field.pattern is not None:
        checks.append(
            Check(
                field.name,
                "format",
                f"NOT regexp_full_match({value}, {literal(field.pattern)})",
                f"{shown} || ' does not match {_describe_pattern(field)}'",
            )
        )
    if field.choices:
        choices = ", ".join(literal(c) for c in field.choices)
        checks.append(
            Check(
                field.name,
                "choice",
                f"{value} NOT IN ({choices})",
                f"{shown} || ' is not one of {'/'.join(field.choices).replace(chr(39), '')}'",
            )
        )
    return checks


def _describe_pattern(field: Field) -> str:
    if field.name == "msisdn":
        return "an 11-digit mobile number (1[3-9]xxxxxxxxx)"
    return "the format " + field.pattern.replace("'", "''") if field.pattern else ""


def date_field_check(
    interface: Interface, file_day: date, native: frozenset[str] = frozenset()
) -> list[Check]:
    """Records of a daily file must fall on the file's day (a bill file: its month's first)."""
    if interface.date_field is None:
        return []
    field = interface.field(interface.date_field)
    day = literal(file_day.isoformat())
    return [
        Check(
            field.name,
            "date",
            f"CAST({typed(field, field.name in native)} AS DATE) <> DATE {day}",
            f"{_shown(field)} || ' is not on the file''s date {file_day.isoformat()}'",
        )
    ]


def problems_sql(interface: Interface, file_day: date, native: frozenset[str] = frozenset()) -> str:
    """One row per problem: (line_no, field, code, reason) over ``raw_fields``."""
    checks = [c for f in interface.fields for c in field_checks(f, file_day, f.name in native)]
    checks += date_field_check(interface, file_day, native)
    cases = ",\n      ".join(
        f"CASE WHEN coalesce({c.failing}, FALSE) THEN "
        f"{{'field': {literal(c.field)}, 'code': {literal(c.code)}, 'reason': {c.reason}}} END"
        for c in checks
    )
    return f"""
    SELECT line_no, p.field, p.code, p.reason FROM (
      SELECT line_no, unnest(list_filter([
      {cases}
      ], lambda x: x IS NOT NULL)) AS p
      FROM raw_fields WHERE field_error IS NULL
    )
    UNION ALL
    SELECT line_no, '*', 'line', field_error FROM raw_fields WHERE field_error IS NOT NULL
    """


def typed_rows_sql(interface: Interface, native: frozenset[str] = frozenset()) -> str:
    """The typed columns of the rows that passed every field check."""
    columns = ",\n  ".join(
        f"{typed(f, f.name in native)} AS {column(f.name)}" for f in interface.fields
    )
    return f"""
    SELECT line_no, {columns}
    FROM raw_fields
    WHERE field_error IS NULL AND line_no NOT IN (SELECT line_no FROM problems)
    """


def duplicates_sql(interface: Interface) -> str:
    """Later rows whose key repeats an earlier row's key, pointing at the first one.

    A hash aggregate finds the repeated keys first; only their rows are ranked, so a file
    without duplicates costs one aggregation, not a sort.
    """
    key = ", ".join(column(k) for k in interface.key)
    names = ", ".join(interface.key)
    return f"""
    WITH repeated AS (
      SELECT {key}, min(line_no) AS first_line FROM typed_rows
      GROUP BY {key} HAVING count(*) > 1
    )
    SELECT t.line_no, {literal(interface.key[0])} AS field, 'duplicate' AS code,
           'duplicate key ({names}) of line ' || r.first_line AS reason
    FROM typed_rows t JOIN repeated r USING ({key})
    WHERE t.line_no <> r.first_line
    """


def reference_sql(field: str, known_relation: str, key: str, noun: str) -> str:
    """Rows whose ``field`` names no row of ``known_relation``."""
    name = column(field)
    return f"""
    SELECT t.line_no, {literal(field)} AS field, 'reference' AS code,
           'unknown {noun} ' || {_shown_qualified(name)} AS reason
    FROM typed_rows t ANTI JOIN {known_relation} k ON t.{name} = k.{column(key)}
    """


def _shown_qualified(name: str) -> str:
    return f"'''' || left(t.{name}, {VALUE_SHOWN}) || ''''"
