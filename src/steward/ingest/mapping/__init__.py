"""Foreign customer files turned into Steward interface files (``docs/foreign-files.md``)."""

from steward.ingest.mapping.config import (
    ColumnRule,
    ConstantRule,
    Mapping,
    MappingConfigError,
    MappingError,
    MonthsBeforeAsOfRule,
    SourceFormat,
    SurrogateMsisdnRule,
    ValueType,
    load_mapping,
    parse_mapping,
)
from steward.ingest.mapping.transform import (
    MappingReport,
    UnmappedValues,
    apply_mapping,
    surrogate_msisdn,
)

__all__ = [
    "ColumnRule",
    "ConstantRule",
    "Mapping",
    "MappingConfigError",
    "MappingError",
    "MappingReport",
    "MonthsBeforeAsOfRule",
    "SourceFormat",
    "SurrogateMsisdnRule",
    "UnmappedValues",
    "ValueType",
    "apply_mapping",
    "load_mapping",
    "parse_mapping",
    "surrogate_msisdn",
]
