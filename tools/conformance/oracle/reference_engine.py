"""Flagsmith's reference engine behind NDJSON on stdin/stdout.

Started once per oracle run. The first line written is `{"ready": "<engine version>", "python": "<version>"}`
(Python's version matters: its `re` module decides REGEX conditions); after
that every line read is one evaluation context (Python's JSON, so `5.0` stays a float and
`-Infinity` is read), and every line written is `{"result": ...}` or `{"error": "..."}` for it,
in the same order.

Floats that JSON cannot tell from ints on the reading side (integral ones such as `5.0`, and
non-finite ones) are written tagged as `{"$float": <value or "inf"/"-inf"/"nan">}`, so the
caller can compare value types exactly.
"""

import json
import math
import platform
import sys
from importlib.metadata import version

from flag_engine.engine import get_evaluation_result


def tag_floats(value):
    if isinstance(value, float):
        if not math.isfinite(value):
            return {"$float": str(value)}
        if value.is_integer():
            return {"$float": value}
        return value
    if isinstance(value, dict):
        return {key: tag_floats(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [tag_floats(item) for item in value]
    return value


def main() -> None:
    out = sys.stdout
    out.write(json.dumps({"ready": version("flagsmith-flag-engine"), "python": platform.python_version()}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = get_evaluation_result(json.loads(line))
            answer = json.dumps({"result": tag_floats(result)}, allow_nan=False)
        except Exception as error:  # noqa: BLE001 -- every failure is reported to the caller
            answer = json.dumps({"error": f"{type(error).__name__}: {error}"})
        out.write(answer + "\n")
        out.flush()


if __name__ == "__main__":
    main()
