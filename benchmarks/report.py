"""How every benchmark prints its result: one JSON document, or aligned lines for people."""

from __future__ import annotations

import json
from typing import Any


def print_result(result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    width = max(len(key) for key in result)
    for key, value in result.items():
        print(f"{key:>{width}}: {value}")
