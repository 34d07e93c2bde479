"""Fetching a file a user shared, with the checks Slack's file hosting calls for.

The bot token travels only to Slack's own hosts: a `url_private_download` pointing anywhere else
is refused before any request is made. Slack answers a request without a valid token with HTTP
200 and an HTML login page, so the body is checked too, and the size is capped while reading.
"""

from __future__ import annotations

import io
import ipaddress
import urllib.error
import urllib.request
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

from bot.errors import UserError

_CHUNK = 1 << 20


class DownloadError(UserError):
    """A file could not be fetched; the message is for the person who shared it."""


def slack_url(url: str, api_url: str) -> str | None:
    """`url` rebuilt from its parts when it is Slack's to send the token to, else None.

    Allowed: exactly the Web API's scheme, host and port (the stand-in of the tests, GovSlack),
    or https to files.slack.com or a subdomain of the API host's domain (never for an IP
    address). Anything a parser could read two ways (a user part, a backslash, spaces) is
    refused, and what is fetched is the URL as parsed here, so checking and fetching agree.
    """
    if any(c in url for c in "\\ \t\r\n") or not url.isascii():
        return None
    try:
        parts, api = urlsplit(url), urlsplit(api_url)
        port, api_port = parts.port, api.port
    except ValueError:
        return None
    host, api_host = (parts.hostname or "").lower(), (api.hostname or "").lower()
    if not host or "@" in parts.netloc or parts.scheme not in ("https", "http"):
        return None
    same = (parts.scheme, host, port or _DEFAULT[parts.scheme]) == (
        api.scheme, api_host, api_port or _DEFAULT.get(api.scheme, 0),
    )  # fmt: skip
    if not same:
        if parts.scheme != "https" or port not in (None, 443) or _is_ip(api_host):
            return None  # the token never crosses the network in clear, nor to a lookalike
        domain = api_host.split(".", 1)[1] if api_host.count(".") >= 2 else api_host
        if host != "files.slack.com" and host != api_host and not host.endswith("." + domain):
            return None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def allowed_host(url: str, api_url: str) -> bool:
    return slack_url(url, api_url) is not None


_DEFAULT = {"https": 443, "http": 80}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _SlackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """urllib keeps the Authorization header on redirects: follow them only to Slack's hosts."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not allowed_host(newurl, self.api_url):
            raise DownloadError("Slack redirected the download elsewhere, so I stopped")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(
    url: str,
    token: str,
    api_url: str,
    max_bytes: int,
    into: BinaryIO | None = None,
    timeout: float = 60,
) -> bytes:
    """Download a shared file, streamed into `into` (a temporary file: a 1 GB upload is never
    held in memory) or, without it, returned; the first bytes are returned either way, to
    check that Slack sent the file and not its login page."""
    checked = slack_url(url, api_url)
    if checked is None:
        raise DownloadError("the file is not hosted by Slack, so I did not download it")
    request = urllib.request.Request(checked, headers={"Authorization": f"Bearer {token}"})
    opener = urllib.request.build_opener(_SlackOnlyRedirects(api_url))
    target = into if into is not None else io.BytesIO()
    size, head = 0, b""
    try:
        with opener.open(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(
                        f"the file is over the {max_bytes / 1048576:g} MB limit (MAX_UPLOAD_MB)"
                    )
                head = head or chunk[:512]
                target.write(chunk)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"Slack answered {exc.code} when I fetched the file") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DownloadError("I could not reach Slack to fetch the file; try again") from exc
    start = head.lstrip().lower()
    if "text/html" in content_type or start.startswith((b"<!doctype html", b"<html")):
        raise DownloadError(
            "Slack sent a login page instead of the file: the bot needs the files:read scope"
        )
    return target.getvalue() if into is None else head
