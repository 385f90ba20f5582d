"""Host names: which belong to the same site, and which match a catalogue host pattern.

"Same site" is decided on the registrable domain, taken as the last two labels of the name
(``www.mixvoip.com`` and ``consent.mixvoip.com`` are the same site; ``connect.facebook.net``
is another). That is right for every domain Mixvoip runs; a suffix of two labels such as
``co.uk`` would need the public suffix list. An IP address or ``localhost`` is only the same
site as itself.
"""

from __future__ import annotations

import ipaddress
from fnmatch import fnmatchcase


def registrable_domain(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        labels = host.split(".")
        return ".".join(labels[-2:]) if len(labels) > 2 else host
    return host


def is_same_site(host: str, other: str) -> bool:
    return registrable_domain(host) == registrable_domain(other)


def matches_host(host: str, pattern: str) -> bool:
    """``pattern`` is a host from the catalogue, possibly ``*.doubleclick.net``."""
    host, pattern = host.lower(), pattern.lower()
    if pattern.startswith("*."):
        return host == pattern[2:] or host.endswith(pattern[1:])
    return host == pattern


def matches_cookie(name: str, pattern: str) -> bool:
    """``pattern`` is a cookie name from the catalogue, where ``*`` stands for any text."""
    return fnmatchcase(name, pattern) if "*" in pattern else name == pattern
