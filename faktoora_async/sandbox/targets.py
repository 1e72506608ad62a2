"""Webhook target URLs: refused like faktoora refuses them, at registration (API.md v2, Webhooks).

faktoora resolves a target when it is registered and refuses loopback, private (RFC 1918), link-local,
``.local``, ``.invalid`` and other internal targets with ``400 BAD_REQUEST``.  The sandbox does the same
unless it runs with ``allow_private_targets`` (its test fixtures and demos, whose receivers listen on
loopback).  Only the host is checked; a URL that is not ``http(s)://host...`` is refused in any mode.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket

from yarl import URL

__all__ = ["TargetRefused", "check_target", "check_url_syntax"]

_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
MAX_URL = 2000
RESOLVE_TIMEOUT = 5.0
INTERNAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
INTERNAL_SUFFIXES = (
    ".local",
    ".localhost",
    ".invalid",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".corp",
    ".localdomain",
    ".home.arpa",
    ".test",
    ".example",
    ".onion",
)
"""Special-use and de-facto private DNS names (RFC 6761, RFC 6762, RFC 8375, ICANN name-collision list)."""


class TargetRefused(ValueError):
    """The target is not an acceptable webhook URL; the message says why."""


def check_url_syntax(target: object) -> URL:
    """The parsed URL of an ``http(s)://host...`` target of at most 2000 characters."""
    if not isinstance(target, str) or len(target) > MAX_URL or not _URL.fullmatch(target):
        raise TargetRefused("must be an http(s) URL")
    try:
        url = URL(target)
    except ValueError:
        raise TargetRefused("must be an http(s) URL") from None
    if not url.host:
        raise TargetRefused("must be an http(s) URL with a host")
    return url


def _address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and any(
        address in ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    ):
        return "a private address (RFC 1918)"
    if address.is_private or not address.is_global:
        return "an internal or reserved address"
    return None


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def check_target(target: object, *, allow_private: bool) -> str:
    """``target`` when faktoora would accept it; raises :class:`TargetRefused` naming the reason.

    With ``allow_private`` only the syntax is checked (no name rules, no DNS).
    """
    url = check_url_syntax(target)
    assert isinstance(target, str) and url.host is not None
    if allow_private:
        return target
    host = url.host.rstrip(".").lower()
    literal = _literal(host)
    if literal is not None:
        problem = _address_problem(literal)
        if problem:
            raise TargetRefused(f"host {host} is {problem}; faktoora delivers only to public hosts")
        return target
    if host in INTERNAL_NAMES or host.endswith(INTERNAL_SUFFIXES) or "." not in host:
        raise TargetRefused(f"host {host} is an internal name; faktoora delivers only to public hosts")
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, url.port or 443, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, asyncio.TimeoutError, UnicodeError):
        raise TargetRefused(f"host {host} does not resolve") from None
    for info in infos:
        resolved = _literal(str(info[4][0]).split("%", 1)[0])
        problem = _address_problem(resolved) if resolved is not None else "not an IP address"
        if problem:
            raise TargetRefused(f"host {host} resolves to {resolved}, {problem}")
    return target
