"""Where the broker may send browsers and where it may send requests.

* Redirects: a connect's ``redirectUrl`` must start with an allowed origin or URL prefix
  (``BrokerSettings.allowed_redirects``; by default the dashboard's origin and loopback origins
  on any port), so the callback can never bounce a user to an attacker's site. The broker's own
  origin is always allowed, whatever the list says: it is no attacker's site, and the first-run
  seed's connects land there (``outbound up --allowed-redirect X`` replaces the defaults). URLs a browser
  reads differently from ``urlsplit`` (backslashes, control characters) and paths with dot
  segments (which would climb out of an allowed prefix) are refused.
* Outbound requests (discovery, token, revocation endpoints): an SSRF guard. Only http(s);
  IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64, IPv4-compatible) are
  judged by the IPv4 address inside; addresses that are private, link-local, multicast,
  reserved or unspecified are refused unless
  ``allow_private_urls``; loopback is allowed (the demo provider runs there); plain http only to
  loopback (or anywhere when private URLs are allowed). Redirects are never followed.
  Known gap: the name is resolved for the check and again by the HTTP client (DNS rebinding).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import ssl
from urllib.parse import unquote, urlsplit

import httpx

from broker.config import BrokerSettings, is_loopback_host, origin_of
from broker.errors import InvalidArguments

HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Browsers read a backslash as a slash and drop tabs and newlines (WHATWG URL), so a URL holding
# them means something else to the browser than to urlsplit: refused outright.
_AMBIGUOUS = re.compile(r"[\\\x00-\x20\x7f]")


def _has_dot_segment(path: str) -> bool:
    # Browsers resolve "..", "%2e%2e" and ".%2E" alike (WHATWG URL path state), escaping a prefix.
    return any(seg in {".", ".."} for seg in unquote(path).split("/"))


def redirect_allowed(url: str, settings: BrokerSettings) -> bool:
    """Whether the browser may be sent to ``url`` after a connect."""
    if _AMBIGUOUS.search(url):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:  # "http://[" (an unclosed IPv6 literal), "http://h:port"
        return False
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username:
        return False
    if _has_dot_segment(parts.path):
        return False
    if origin_of(url) == origin_of(settings.base_url):
        return True
    if not settings.allowed_redirects:
        return is_loopback_host(parts.hostname) or origin_of(url) == origin_of(
            settings.dashboard_url
        )
    for allowed in settings.allowed_redirects:
        allowed_parts = urlsplit(allowed)
        if allowed_parts.path in {"", "/"} and not allowed_parts.query:
            if origin_of(url) == origin_of(allowed):
                return True
        elif url.startswith(allowed):
            return True
    return False


def check_redirect(url: str, settings: BrokerSettings) -> str:
    """``url`` if it is an allowed redirect; 400 otherwise."""
    if not redirect_allowed(url, settings):
        raise InvalidArguments("redirectUrl is not on the allowed list")
    return url


def check_authorization_url(url: str) -> str:
    """``url`` if browsers may be sent there to give consent (configured or discovered); 400.

    Only absolute http(s) URLs with a host, no credentials and nothing a browser reads
    differently (a ``javascript:`` or ``data:`` URL from a provider's metadata never reaches
    a connect answer).
    """
    parts = urlsplit(url)
    if (
        _AMBIGUOUS.search(url)
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.username is not None
    ):
        raise InvalidArguments("authorizationUrl must be an absolute http(s) URL")
    return url


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: 6to4 (2002::/16), Teredo (2001::/32, server
    and client), NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and IPv4-compatible (::a.b.c.d)."""
    found = [v4 for v4 in (ip.sixtofour, *(ip.teredo or ())) if v4 is not None]
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64) or (int(ip) >> 32 == 0 and int(ip) > 1):
        found.append(low32)
    return found


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the host's own IPv4 stack: judged as that IPv4 address
            ip = ip.ipv4_mapped
        else:
            # A relay or translator delivers these to the IPv4 address inside: 6to4 of
            # 169.254.169.254 is the metadata service, and no such form is ever loopback.
            embedded = _embedded_ipv4(ip)
            if any(v4.is_loopback or _refused_address(str(v4)) for v4 in embedded):
                return True
            if embedded and not ip.is_private:
                return False
    if ip.is_loopback:
        return False
    return bool(
        ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _literal_address(host: str) -> str | None:
    """The address ``host`` spells without DNS: standard, or the legacy decimal, octal and hex
    forms (``2852039166``, ``0251.0376.0251.0376``, ``0xA9FEA9FE``) resolvers also accept."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def check_outbound_url(url: str, settings: BrokerSettings, *, resolve: bool = True) -> str:
    """``url`` if the broker may call it; 400 (InvalidArguments) otherwise.

    With ``resolve=False`` (saving an app, possibly offline) only the URL's shape and literal
    addresses are checked; every request checks again with resolution.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in {"http", "https"} or not host:
        raise InvalidArguments("Provider URLs must be absolute http(s) URLs")
    if settings.allow_private_urls:
        return url
    if parts.scheme == "http" and not is_loopback_host(host):
        raise InvalidArguments("Provider URLs must use https (plain http only on loopback)")
    if is_loopback_host(host):
        return url
    literal = _literal_address(host)
    if literal is not None:
        if _refused_address(literal):
            raise InvalidArguments(f"Provider host {host} is a non-public address")
        return url
    if not resolve:
        return url
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise InvalidArguments(f"Provider host {host} does not resolve") from exc
    if any(_refused_address(str(info[4][0])) for info in infos):
        raise InvalidArguments(f"Provider host {host} resolves to a non-public address")
    return url


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of provider calls (httpx's defaults: certifi's roots, or
    ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once per process: loading the root store costs
    tens of milliseconds of CPU, which a client per refresh paid on every call."""
    return httpx.create_ssl_context()


def warm_up() -> None:
    """Build the TLS context and import the HTTP transport before the first provider call, so
    the first refresh of a worker (a storm's leader, docs/performance.md) does not pay them."""
    httpx.Client(verify=tls_context()).close()


def guarded_client(settings: BrokerSettings) -> httpx.Client:
    """An HTTP client for provider calls: bounded timeouts, SSRF check on every request."""

    def _check(request: httpx.Request) -> None:
        check_outbound_url(str(request.url), settings)

    return httpx.Client(
        timeout=HTTP_TIMEOUT,
        verify=tls_context(),
        follow_redirects=False,
        event_hooks={"request": [_check]},
        headers={"User-Agent": "outbound-broker/0.1"},
    )
