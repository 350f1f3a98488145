"""The foreign-file mapping: config validation, conversions, report, and the IBM mapping.

IBM's file is not copied here: every source is a small file of the same shape made in tmp_path.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from steward.ingest.mapping import (
    Mapping,
    MappingConfigError,
    MappingError,
    MappingReport,
    apply_mapping,
    load_mapping,
    surrogate_msisdn,
)
from steward.ingest.schemas import MSISDN_PATTERN, PRODUCT, PROFILE

IBM_MAPPING = Path(__file__).parents[2] / "src/steward/ingest/mappings/ibm_telco.yaml"
AS_OF = date(2026, 11, 1)

IBM_HEADER = [
    "customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure", "PhoneService",
    "MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup", "DeviceProtection",
    "TechSupport", "StreamingTV", "StreamingMovies", "Contract", "PaperlessBilling",
    "PaymentMethod", "MonthlyCharges", "TotalCharges", "Churn",
]  # fmt: skip

# Made-up customers in IBM's shape, with its traps: a blank (" ") TotalCharges at tenure 0,
# SeniorCitizen as 0/1 beside Yes/No flags, "No phone service" / "No internet service".
IBM_ROWS = [
    ["0001-AAAAA", "Female", "0", "Yes", "No", "1", "No", "No phone service", "DSL", "No",
     "Yes", "No", "No", "No", "No", "Month-to-month", "Yes", "Electronic check", "29.85",
     "29.85", "No"],
    ["0002-BBBBB", "Male", "1", "No", "No", "34", "Yes", "No", "Fiber optic", "No", "No", "Yes",
     "No", "Yes", "Yes", "One year", "No", "Mailed check", "99.65", "3381.8", "Yes"],
    ["0003-CCCCC", "Female", "0", "Yes", "Yes", "0", "Yes", "Yes", "No", "No internet service",
     "No internet service", "No internet service", "No internet service",
     "No internet service", "No internet service", "Two year", "No",
     "Bank transfer (automatic)", "25.35", " ", "No"],
    ["0004-DDDDD", "Male", "0", "No", "No", "72", "Yes", "Yes", "DSL", "Yes", "Yes", "Yes", "Yes",
     "No", "No", "Two year", "Yes", "Credit card (automatic)", "64.10", "4617.5", "No"],
]  # fmt: skip


def write_csv(
    path: Path,
    header: list[str] | None,
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n")
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def profile_config(**rules: Any) -> dict[str, Any]:
    """A valid profile mapping of constants, with the given field rules on top."""
    fields: dict[str, Any] = {
        "msisdn": {"surrogate_msisdn": "id"},
        "customer_id": {"column": "id"},
        "gender": {"constant": "U"},
        "city": {"constant": "unknown"},
        "brand": {"constant": "gotone"},
        "vip_level": {"constant": "none"},
        "plan_id": {"constant": "P_TEST"},
        "payment_type": {"constant": "postpaid"},
        "activation_date": {"constant": "2020-01-01"},
        "status": {"constant": "active"},
        "customer_type": {"constant": "personal"},
        "contract_type": {"constant": "none"},
    }
    for flag in ("is_foreigner", "is_blacklisted", "is_data_card", "optout_sms",
                 "optout_outbound", "optout_app"):  # fmt: skip
        fields[flag] = {"constant": "0"}
    fields.update(rules)
    return {"target": "profile", "fields": fields}


def mapping_from(tmp_path: Path, config: dict[str, Any] | str) -> Mapping:
    path = tmp_path / "mapping.yaml"
    text = config if isinstance(config, str) else yaml.safe_dump(config, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def config_error(tmp_path: Path, config: dict[str, Any] | str) -> str:
    with pytest.raises(MappingConfigError) as caught:
        mapping_from(tmp_path, config)
    return str(caught.value)


def run(
    mapping: Mapping, source: Path, tmp_path: Path, *, as_of: date = AS_OF
) -> tuple[MappingReport, list[dict[str, str]]]:
    out = tmp_path / "out"
    report = apply_mapping(mapping, source, out, as_of=as_of)
    lines = (out / f"profile_{as_of:%Y%m%d}.txt").read_text(encoding="utf-8").splitlines()
    rows = [dict(zip(PROFILE.field_names, line.split("|"), strict=True)) for line in lines]
    return report, rows


def simple_source(tmp_path: Path, header: list[str], rows: list[list[str]]) -> Path:
    return write_csv(tmp_path / "foreign.csv", header, rows)


# --------------------------------------------------------------------------- IBM mapping


def test_ibm_mapping_turns_an_ibm_shaped_file_into_profiles_and_plans(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "telco.csv", IBM_HEADER, IBM_ROWS)
    report, rows = run(load_mapping(IBM_MAPPING), source, tmp_path)

    assert report.rows_read == report.rows_written == 4
    assert report.unmapped_total == 0
    assert report.warnings == []
    first, second, third, fourth = rows
    assert first == {
        "msisdn": surrogate_msisdn("0001-AAAAA"),
        "customer_id": "0001-AAAAA",
        "gender": "F",
        "birth_date": "",
        "city": "unknown",
        "county": "",
        "brand": "gotone",
        "vip_level": "none",
        "plan_id": "IBM_DSL",
        "payment_type": "postpaid",
        "activation_date": "2026-10-01",
        "status": "active",
        "customer_type": "personal",
        "is_foreigner": "0",
        "is_blacklisted": "0",
        "is_data_card": "1",
        "optout_sms": "0",
        "optout_outbound": "0",
        "optout_app": "0",
        "id_region": "",
        "handset_model": "",
        "handset_network": "",
        "handset_since": "",
        "contract_type": "monthly",
        "contract_end": "",
        "monthly_fee": "29.85",
        "payment_method": "electronic_check",
    }
    assert (second["gender"], second["plan_id"], second["status"]) == (
        "M",
        "IBM_FIBER",
        "cancelled",
    )
    assert (second["activation_date"], second["contract_type"]) == ("2024-01-01", "one_year")
    # tenure 0 (the blank-TotalCharges customer) joined in the as-of month
    assert (third["activation_date"], third["plan_id"], third["is_data_card"]) == (
        "2026-11-01",
        "IBM_PHONE",
        "0",
    )
    assert (fourth["activation_date"], fourth["payment_method"]) == (
        "2020-11-01",
        "credit_card_auto",
    )

    products = (tmp_path / "out/product_20261101.txt").read_text(encoding="utf-8").splitlines()
    ids = {line.split("|")[0] for line in products}
    assert {row["plan_id"] for row in rows} <= ids
    assert all(len(line.split("|")) == len(PRODUCT.fields) for line in products)


def test_output_line_k_is_source_line_k_plus_one(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "telco.csv", IBM_HEADER, IBM_ROWS)
    report, rows = run(load_mapping(IBM_MAPPING), source, tmp_path)

    source_lines = source.read_bytes().split(b"\r\n")
    assert report.line_offset == 1
    for k, row in enumerate(rows, start=1):
        assert source_lines[k - 1 + report.line_offset].startswith(row["customer_id"].encode())


# --------------------------------------------------------------------------- conversions


def test_value_map_translates_and_reports_what_it_missed(tmp_path: Path) -> None:
    mapping = mapping_from(
        tmp_path, profile_config(gender={"column": "sex", "values": {"Male": "M", "Female": "F"}})
    )
    rows_in = [["a", "Male"], ["b", "Female"], ["c", "x"], ["d", "x"], ["e", "male"], ["f", ""]]
    report, rows = run(mapping, simple_source(tmp_path, ["id", "sex"], rows_in), tmp_path)

    assert [r["gender"] for r in rows] == ["M", "F", "x", "x", "male", ""]
    assert report.unmapped["gender"].count == 3
    assert report.unmapped["gender"].top == [("x", 2), ("male", 1)]
    assert report.unmapped_total == 3


def test_unquoted_yes_no_keys_stay_strings(tmp_path: Path) -> None:
    text = yaml.safe_dump(profile_config()).replace(
        "status:\n    constant: active",
        "status:\n    column: churn\n    values: {Yes: cancelled, No: active, 01: suspended}",
    )
    mapping = mapping_from(tmp_path, text)
    source = simple_source(tmp_path, ["id", "churn"], [["a", "Yes"], ["b", "No"], ["c", "01"]])
    _, rows = run(mapping, source, tmp_path)

    assert [r["status"] for r in rows] == ["cancelled", "active", "suspended"]


def test_blank_as_null_turns_a_lone_space_into_null(tmp_path: Path) -> None:
    fee = {"column": "total", "type": "float"}
    mapping = mapping_from(tmp_path, profile_config(monthly_fee={**fee, "blank_as_null": True}))
    source = simple_source(tmp_path, ["id", "total"], [["a", "29.85"], ["b", " "], ["c", ""]])
    report, rows = run(mapping, source, tmp_path)

    assert [r["monthly_fee"] for r in rows] == ["29.85", "", ""]
    assert report.unmapped["monthly_fee"].count == 0

    strict = mapping_from(tmp_path, profile_config(monthly_fee=fee))
    report, rows = run(strict, source, tmp_path / "strict")
    assert [r["monthly_fee"] for r in rows] == ["29.85", " ", ""]
    assert report.unmapped["monthly_fee"].top == [(" ", 1)]


def test_default_fills_nulls_only(tmp_path: Path) -> None:
    mapping = mapping_from(
        tmp_path, profile_config(city={"column": "town", "blank_as_null": True, "default": "none"})
    )
    source = simple_source(tmp_path, ["id", "town"], [["a", "Wuhan"], ["b", "  "], ["c", ""]])
    _, rows = run(mapping, source, tmp_path)

    assert [r["city"] for r in rows] == ["Wuhan", "none", "none"]


def test_bool_type_converts_zero_one_and_yes_no_alike(tmp_path: Path) -> None:
    mapping = mapping_from(
        tmp_path,
        profile_config(
            is_foreigner={"column": "senior", "type": "bool"},
            is_blacklisted={"column": "partner", "type": "bool"},
        ),
    )
    source = simple_source(
        tmp_path,
        ["id", "senior", "partner"],
        [["a", "0", "Yes"], ["b", "1", "No"], ["c", " 1", "yes"], ["d", "2", "maybe"]],
    )
    report, rows = run(mapping, source, tmp_path)

    assert [(r["is_foreigner"], r["is_blacklisted"]) for r in rows] == [
        ("0", "1"),
        ("1", "0"),
        ("1", "1"),
        ("2", "maybe"),
    ]
    assert report.unmapped["is_foreigner"].top == [("2", 1)]
    assert report.unmapped["is_blacklisted"].top == [("maybe", 1)]


def test_value_map_takes_precedence_over_the_type(tmp_path: Path) -> None:
    rule = {"column": "tv", "type": "bool", "values": {"No internet service": "0"}}
    mapping = mapping_from(tmp_path, profile_config(optout_app=rule))
    rows_in = [["a", "Yes"], ["b", "No internet service"], ["c", "No phone service"]]
    report, rows = run(mapping, simple_source(tmp_path, ["id", "tv"], rows_in), tmp_path)

    assert [r["optout_app"] for r in rows] == ["1", "0", "No phone service"]
    assert report.unmapped["optout_app"].count == 1


def test_date_type_reads_a_declared_format(tmp_path: Path) -> None:
    rule = {"column": "born", "type": "date", "date_format": "%d/%m/%Y"}
    mapping = mapping_from(tmp_path, profile_config(birth_date=rule))
    rows_in = [["a", "31/01/1990"], ["b", "31/02/1990"], ["c", ""]]
    report, rows = run(mapping, simple_source(tmp_path, ["id", "born"], rows_in), tmp_path)

    assert [r["birth_date"] for r in rows] == ["1990-01-31", "31/02/1990", ""]
    assert report.unmapped["birth_date"].count == 1


def test_months_before_as_of(tmp_path: Path) -> None:
    mapping = mapping_from(tmp_path, profile_config(activation_date={"months_before_as_of": "t"}))
    rows_in = [["a", "0"], ["b", "1"], ["c", "13"], ["d", "72"], ["e", "abc"], ["f", "-2"]]
    report, rows = run(mapping, simple_source(tmp_path, ["id", "t"], rows_in), tmp_path)

    assert [r["activation_date"] for r in rows] == [
        "2026-11-01",
        "2026-10-01",
        "2025-10-01",
        "2020-11-01",
        "abc",
        "-2",
    ]
    assert report.unmapped["activation_date"].count == 2


def test_months_before_a_month_end_clamps_to_the_shorter_month(tmp_path: Path) -> None:
    mapping = mapping_from(tmp_path, profile_config(activation_date={"months_before_as_of": "t"}))
    source = simple_source(tmp_path, ["id", "t"], [["a", "1"], ["b", "12"]])
    _, rows = run(mapping, source, tmp_path, as_of=date(2024, 3, 31))

    assert [r["activation_date"] for r in rows] == ["2024-02-29", "2023-03-31"]


# --------------------------------------------------------------------------- surrogate msisdn


def test_surrogate_msisdn_is_stable_and_shaped_like_a_mobile_number(tmp_path: Path) -> None:
    mapping = mapping_from(tmp_path, profile_config())
    keys = [[f"{i:04d}-KEY"] for i in range(200)]
    source = simple_source(tmp_path, ["id"], keys)
    _, first = run(mapping, source, tmp_path / "a")
    _, again = run(mapping, source, tmp_path / "b")

    numbers = [r["msisdn"] for r in first]
    assert numbers == [r["msisdn"] for r in again]
    assert all(re.fullmatch(MSISDN_PATTERN, n) and n.startswith("154") for n in numbers)
    assert numbers == [surrogate_msisdn(k[0]) for k in keys]
    # The documented algorithm, pinned: a change would renumber every mapped customer.
    digest = int(hashlib.md5(b"7590-VHVEG").hexdigest()[:15], 16)
    assert surrogate_msisdn("7590-VHVEG") == f"154{digest % 10**8:08d}" == "15442618199"
    assert [r["customer_id"] for r in first] == [k[0] for k in keys]


def test_surrogate_prefix_sets_the_range(tmp_path: Path) -> None:
    rule = {"surrogate_msisdn": "id", "prefix": "19"}
    mapping = mapping_from(tmp_path, profile_config(msisdn=rule))
    _, rows = run(mapping, simple_source(tmp_path, ["id"], [["k1"]]), tmp_path)

    assert rows[0]["msisdn"] == surrogate_msisdn("k1", prefix="19")
    assert re.fullmatch(r"19[0-9]{9}", rows[0]["msisdn"])


def test_surrogate_collisions_are_counted_and_left_to_ingest(tmp_path: Path) -> None:
    seen: dict[str, str] = {}
    for i in range(100_000):  # 6 hash digits: a shared number turns up within a few thousand
        key = f"k{i}"
        number = surrogate_msisdn(key, prefix="15400")
        if number in seen:
            pair = [seen[number], key]
            break
        seen[number] = key
    mapping = mapping_from(
        tmp_path, profile_config(msisdn={"surrogate_msisdn": "id", "prefix": "15400"})
    )
    source = simple_source(tmp_path, ["id"], [[pair[0]], ["other"], [pair[1]]])
    report, rows = run(mapping, source, tmp_path)

    assert rows[0]["msisdn"] == rows[2]["msisdn"]
    assert report.surrogate_collisions == 1
    assert report.rows_written == 3  # both kept: ingest's duplicate-key check sets one aside


# --------------------------------------------------------------------------- configuration


def test_missing_required_fields_are_listed(tmp_path: Path) -> None:
    config = profile_config()
    for name in ("brand", "city", "status"):
        del config["fields"][name]

    message = config_error(tmp_path, config)

    assert "no rule for required profile field(s): city, brand, status" in message


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    rule = {"column": "sex", "valuez": {"Male": "M"}}
    message = config_error(tmp_path, profile_config(gender=rule))
    assert "fields.gender.valuez: unknown key" in message

    message = config_error(tmp_path, {**profile_config(), "sauce": {"delimiter": ","}})
    assert "sauce: unknown key" in message

    message = config_error(tmp_path, {**profile_config(), "source": {"delimter": ";"}})
    assert "source.delimter: unknown key" in message


def test_bad_values_are_named(tmp_path: Path) -> None:
    assert "fields.gender: a field rule needs exactly one of" in config_error(
        tmp_path, profile_config(gender={"column": "sex", "constant": "M"})
    )
    assert "fields.gender: a field rule needs exactly one of" in config_error(
        tmp_path, profile_config(gender="sex")
    )
    assert "fields.gender.type:" in config_error(
        tmp_path, profile_config(gender={"column": "sex", "type": "boolean"})
    )
    assert "not fields of profile: hobby" in config_error(
        tmp_path, profile_config(hobby={"constant": "x"})
    )
    assert "source.encoding: " in config_error(
        tmp_path, {**profile_config(), "source": {"encoding": "klingon"}}
    )
    assert "target: " in config_error(tmp_path, {**profile_config(), "target": "profiles"})
    assert "fields.msisdn.prefix: " in config_error(
        tmp_path, profile_config(msisdn={"surrogate_msisdn": "id", "prefix": "12"})
    )
    assert "contains '|'" in config_error(tmp_path, profile_config(city={"constant": "a|b"}))


def test_duplicate_and_broken_yaml_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(profile_config()) + "target: product\n"
    assert "duplicate key 'target'" in config_error(tmp_path, text)
    assert "not valid YAML" in config_error(tmp_path, "target: [profile\n")
    assert "must be a YAML mapping" in config_error(tmp_path, "- profile\n")


def test_extra_products_are_checked_against_the_product_interface(tmp_path: Path) -> None:
    row = {"product_id": "P_TEST", "name_zh": "测试", "name_en": "Test", "kind": "plan"}
    message = config_error(tmp_path, {**profile_config(), "extra_products": [row]})
    assert "extra_products[0]: missing required product field(s): category, monthly_fee" in message

    row |= {"category": "voice", "monthly_fee": "10", "colour": "red"}
    message = config_error(tmp_path, {**profile_config(), "extra_products": [row]})
    assert "extra_products[0]: not product fields: colour" in message


def test_extra_products_file_is_written_in_schema_order(tmp_path: Path) -> None:
    row = {"monthly_fee": "10.5", "kind": "plan", "category": "voice", "name_en": "Test",
           "name_zh": "测试套餐", "product_id": "P_TEST"}  # fmt: skip
    mapping = mapping_from(tmp_path, {**profile_config(), "extra_products": [row]})
    report = apply_mapping(
        mapping, simple_source(tmp_path, ["id"], [["a"]]), tmp_path / "out", as_of=AS_OF
    )

    product = tmp_path / "out/product_20261101.txt"
    assert str(product) in report.files_written
    assert product.read_text(encoding="utf-8") == "P_TEST|测试套餐|Test|plan|voice|10.5|\n"


# --------------------------------------------------------------------------- source files


def test_gbk_source_is_read_and_written_as_utf8(tmp_path: Path) -> None:
    config = profile_config(city={"column": "城市"}, payment_method={"column": "缴费方式"})
    config["source"] = {"encoding": "gbk", "delimiter": "|"}
    mapping = mapping_from(tmp_path, config)
    source = write_csv(
        tmp_path / "gbk.txt",
        ["id", "城市", "缴费方式"],
        [["a", "武汉", "银行代扣"], ["b", "北京", "现金"]],
        delimiter="|",
        encoding="gbk",
    )
    report, rows = run(mapping, source, tmp_path)

    assert [(r["city"], r["payment_method"]) for r in rows] == [
        ("武汉", "银行代扣"),
        ("北京", "现金"),
    ]
    assert report.warnings == []


def test_bytes_invalid_in_the_declared_encoding_are_located(tmp_path: Path) -> None:
    config = {**profile_config(), "source": {"encoding": "gbk"}}
    source = tmp_path / "bad.csv"
    source.write_bytes(b"id\r\nok\r\n\x80\xff\r\n")
    with pytest.raises(MappingError, match="line 3"):
        apply_mapping(mapping_from(tmp_path, config), source, tmp_path / "out", as_of=AS_OF)


def test_sql_looking_names_and_values_stay_data(tmp_path: Path) -> None:
    column = "x\"; DROP TABLE mapped; --'"
    value = "'); DROP TABLE mapped; --\""
    rule = {"column": column, "values": {value: "it's fine", "O'Brien": "Robert'); --"}}
    mapping = mapping_from(
        tmp_path, profile_config(city=rule, county={"column": column}, customer_id={"column": "id"})
    )
    source = simple_source(tmp_path, ["id", column], [["a", value], ["b", "O'Brien"], ["c", "?"]])
    report, rows = run(mapping, source, tmp_path)

    assert [r["city"] for r in rows] == ["it's fine", "Robert'); --", "?"]
    assert [r["county"] for r in rows] == [value, "O'Brien", "?"]
    assert report.unmapped["city"].top == [("?", 1)]


def test_a_delimiter_or_line_break_inside_a_value_is_reported(tmp_path: Path) -> None:
    mapping = mapping_from(tmp_path, profile_config(county={"column": "c"}))
    source = simple_source(
        tmp_path, ["id", "c"], [["a", "x|y"], ["b", "two\r\nlines"], ["c", "ok"]]
    )
    out = tmp_path / "out"
    report = apply_mapping(mapping, source, out, as_of=AS_OF)

    lines = (out / "profile_20261101.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert len(lines[0].split("|")) == len(PROFILE.fields) + 1  # ingest sets line 1 aside
    assert lines[1].split("|")[PROFILE.field_names.index("county")] == "two lines"
    assert any("'|' inside a value" in w for w in report.warnings)
    assert any("line breaks" in w for w in report.warnings)
    assert any("not always physical line" in w for w in report.warnings)


def test_headerless_source_names_its_columns(tmp_path: Path) -> None:
    config = {**profile_config(county={"column": "c"}), "source": {"header": False,
              "columns": ["id", "c"], "delimiter": ";"}}  # fmt: skip
    mapping = mapping_from(tmp_path, config)
    source = write_csv(tmp_path / "nohead.csv", None, [["a", "x"]], delimiter=";")
    report, rows = run(mapping, source, tmp_path)

    assert (rows[0]["customer_id"], rows[0]["county"]) == ("a", "x")
    assert report.line_offset == 0
    assert "columns is required" in config_error(
        tmp_path, {**profile_config(), "source": {"header": False}}
    )


def test_missing_source_columns_are_listed(tmp_path: Path) -> None:
    mapping = mapping_from(tmp_path, profile_config(county={"column": "district"}))
    with pytest.raises(MappingError, match=re.escape("no column(s) district (it has: id, town)")):
        apply_mapping(
            mapping,
            simple_source(tmp_path, ["id", "town"], [["a", "x"]]),
            tmp_path / "out",
            as_of=AS_OF,
        )


def test_a_row_with_the_wrong_field_count_fails_naming_its_line(tmp_path: Path) -> None:
    source = tmp_path / "ragged.csv"
    source.write_text("id,c\r\na,x\r\nb,y,z\r\n", encoding="utf-8")
    mapping = mapping_from(tmp_path, profile_config(county={"column": "c"}))
    with pytest.raises(MappingError, match="Line: 3"):
        apply_mapping(mapping, source, tmp_path / "out", as_of=AS_OF)
    assert list((tmp_path / "out").iterdir()) == []


def test_existing_files_are_not_overwritten_unless_asked(tmp_path: Path) -> None:
    mapping = mapping_from(tmp_path, profile_config())
    source = simple_source(tmp_path, ["id"], [["a"]])
    apply_mapping(mapping, source, tmp_path / "out", as_of=AS_OF)
    with pytest.raises(MappingError, match=re.escape("already holds profile_20261101.txt")):
        apply_mapping(mapping, source, tmp_path / "out", as_of=AS_OF)
    apply_mapping(mapping, source, tmp_path / "out", as_of=AS_OF, overwrite=True)


def test_as_of_comes_from_the_caller_or_the_mapping(tmp_path: Path) -> None:
    source = simple_source(tmp_path, ["id"], [["a"]])
    with pytest.raises(MappingError, match="no as-of day"):
        apply_mapping(mapping_from(tmp_path, profile_config()), source, tmp_path / "out")

    config = {**profile_config(), "as_of": {"default": "2026-01-31"}}
    report = apply_mapping(mapping_from(tmp_path, config), source, tmp_path / "out")
    assert report.as_of == date(2026, 1, 31)
    assert (tmp_path / "out/profile_20260131.txt").exists()


def test_header_only_source_writes_an_empty_file(tmp_path: Path) -> None:
    report, rows = run(
        mapping_from(tmp_path, profile_config()), simple_source(tmp_path, ["id"], []), tmp_path
    )
    assert (report.rows_written, rows) == (0, [])


def test_report_is_plain_json(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "telco.csv", IBM_HEADER, IBM_ROWS)
    report = apply_mapping(load_mapping(IBM_MAPPING), source, tmp_path / "out", as_of=AS_OF)

    data = json.loads(json.dumps(report.to_dict()))
    assert data["rows_written"] == 4
    assert data["as_of"] == "2026-11-01"
    assert data["unmapped"]["gender"] == {"count": 0, "top": []}
    assert len(data["files_written"]) == 2
