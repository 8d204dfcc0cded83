"""ZIP codes: Safe Harbor's ZIP3 rendering."""

from __future__ import annotations

# Three-digit ZIP prefixes with 20,000 or fewer people (2000 Census), per HHS
# guidance on the Safe Harbor method.
RESTRICTED_ZIP3 = frozenset(
    ("036", "059", "063", "102", "203", "556", "692", "790", "821")
    + ("823", "830", "831", "878", "879", "884", "890", "893")
)


def generalize_zip(value: str) -> str:
    """Safe Harbor ZIP3: keep the first three digits unless restricted, zero the rest."""
    digits = [c for c in value if c.isdigit()]
    prefix = "".join(digits[:3])
    keep = 3 if len(digits) >= 3 and prefix not in RESTRICTED_ZIP3 else 0
    out = []
    seen = 0
    for c in value:
        if c.isdigit():
            out.append(c if seen < keep else "0")
            seen += 1
        else:
            out.append(c)
    return "".join(out)
