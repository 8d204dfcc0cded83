"""The refactoring check: same notes, same code, same digest; a changed text, another."""

from __future__ import annotations

import io
import json

from tools.dump_detections import dump


def test_the_dump_is_reproducible_and_sees_every_anonymized_text() -> None:
    first, second = io.StringIO(), io.StringIO()
    digests = dump(None, 3, 5, first)
    assert dump(None, 3, 5, second) == digests
    assert first.getvalue() == second.getvalue()
    rows = [json.loads(line) for line in first.getvalue().splitlines()]
    assert len(rows) == 3 and all(row["spans"] for row in rows)
    assert {"safe_harbor", "strict", "shift_years", "tag", "mask"} <= rows[0].keys()
    assert dump(None, 4, 5, None)["all"] != digests["all"]
