"""Reduce what a request reveals about a visitor to what the log needs, and no more.

The log keeps the browser family and major version, the OS family and major version, the
device type and whether the client is a bot (never the raw user-agent string); the IP address
truncated to its network (IPv4 /24, IPv6 /48); and the page URL without query or fragment,
where identifiers and campaign parameters live. See docs/architecture.md, "Data minimisation".
"""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from user_agents import parse as parse_user_agent

MAX_USER_AGENT = 512
MAX_PAGE_URL = 2048
# A netloc that is its own lower-case hostname: no credentials, port or IPv6 brackets.
_PLAIN_NETLOC = re.compile(r"[a-z0-9.-]+")


def truncate_ip(address: str | None) -> str | None:
    """``203.0.113.0/24`` for ``203.0.113.57``; ``2001:db8:1234::/48`` for an IPv6 address."""
    if not address:
        return None
    address = address.strip()
    try:  # the common case, checked by the C library: a dotted-quad IPv4 address
        packed = socket.inet_pton(socket.AF_INET, address)
    except OSError:
        pass
    else:
        return f"{packed[0]}.{packed[1]}.{packed[2]}.0/24"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def reduce_user_agent(user_agent: str | None) -> dict[str, object] | None:
    """Browser / OS / device type / bot flag of a user-agent string (cached: parsing is slow)."""
    if not user_agent:
        return None
    return dict(_reduce(user_agent[:MAX_USER_AGENT]))


@lru_cache(maxsize=8192)
def _reduce(user_agent: str) -> tuple[tuple[str, object], ...]:
    parsed = parse_user_agent(user_agent)
    if parsed.is_bot:
        device = "bot"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_mobile:
        device = "mobile"
    elif parsed.is_pc:
        device = "pc"
    else:
        device = "other"
    return (
        ("browser", _family(parsed.browser.family, parsed.browser.version)),
        ("os", _family(parsed.os.family, parsed.os.version)),
        ("device", device),
        ("bot", bool(parsed.is_bot)),
    )


def _family(family: str, version: tuple[int | str, ...]) -> str:
    major = version[0] if version else None
    return f"{family} {major}" if major not in (None, "") else family


def strip_page_url(url: str) -> str:
    """The URL without query, fragment or credentials; ``ValueError`` if it is not http(s)."""
    if len(url) > MAX_PAGE_URL:
        raise ValueError(f"is longer than {MAX_PAGE_URL} characters")
    try:
        parts = urlsplit(url.strip())
        if parts.scheme in ("http", "https") and _PLAIN_NETLOC.fullmatch(parts.netloc):
            # The common case, without parsing the netloc again for hostname and port.
            return f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"
        port = parts.port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
