"""IP_ADDRESS: IPv4 (dotted quad, optional CIDR prefix) and IPv6.

Presidio's ``IpRecognizer`` would take "7.45.34.7", which nursing notes use for an
arterial blood gas (pH 7.45, pCO2 34, ...), and its IPv6 alternatives accept short
forms such as "add::" or "12::".  Here every candidate is parsed by ``ipaddress`` and:

* a dotted quad that reads like a blood gas (6.xx / 7.xx first) or follows "version"
  / "v" is not an address, unless a label such as "IP" or "host" precedes it;
* an IPv6 candidate needs three or more groups, or such a label.
"""

from __future__ import annotations

import ipaddress

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import StructuredRecognizer

_OCTET = r"[0-9]{1,3}"
IPV4_REGEX = rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?:/[0-9]{{1,2}})?(?![\w]|\.[0-9])"
# A run of hex digits and colons with two colons in its first ten characters, optionally
# ending in a dotted quad ("::ffff:192.0.2.1"); ipaddress decides the rest.  Anchored at
# the first colon (rare), with the leading hex group in a lookbehind.
IPV6_REGEX = (
    r":(?<=(?<![\w:.])(?P<lead>[0-9A-Fa-f]{0,4}):)(?=[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{1,38}"
    r"(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?(?:/[0-9]{1,3})?(?![\w:]|\.[0-9])"
)

_LABEL_BEFORE = regex.compile(
    r"(?i:\b(?:ip|ipv4|ipv6|ip\s+address|address|addr|host|server|gateway)\b)[\s:#=-]{0,3}$"
)
_VERSION_BEFORE = regex.compile(r"(?i:\b(?:v|ver|version|release|build|rev)\.?)[\s:#=-]{0,3}$")
_LOOKBACK = 24


class IpAddressRecognizer(StructuredRecognizer):
    """IPv4 and IPv6 addresses, parsed and sanity-checked."""

    ENTITY = entities.IP_ADDRESS.name
    NAME = "deid.ip_addresses"
    PATTERNS = (("ipv4", IPV4_REGEX, 0.85), ("ipv6", IPV6_REGEX, 0.85))

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        value = text[start:end]
        before = text[max(0, start - _LOOKBACK) : start]
        labelled = _LABEL_BEFORE.search(before) is not None
        try:
            interface = ipaddress.ip_interface(value)
        except ValueError:
            return None
        if interface.version == 4:
            if not labelled and (_looks_like_blood_gas(value) or _VERSION_BEFORE.search(before)):
                return None
        elif not labelled and _ipv6_group_count(value) < 3:
            return None
        return start, end, score


def _looks_like_blood_gas(value: str) -> bool:
    first, second = value.split(".", 2)[:2]
    return first in ("6", "7") and len(second) == 2


def _ipv6_group_count(value: str) -> int:
    """Non-empty 16-bit groups written out; an embedded dotted quad counts as two."""
    address = value.split("/", 1)[0]
    return sum(2 if "." in group else 1 for group in address.split(":") if group)


RECOGNIZERS = [IpAddressRecognizer]
