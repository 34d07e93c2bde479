"""Fetching a file a user shared, with the checks Slack's file hosting calls for.

The bot token travels only to Slack's own hosts: a `url_private_download` pointing anywhere else
is refused before any request is made. Slack answers a request without a valid token with HTTP
200 and an HTML login page, so the body is checked too, and the size is capped while reading.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from typing import BinaryIO
from urllib.parse import urlparse

from bot.errors import UserError

_CHUNK = 1 << 20


class DownloadError(UserError):
    """A file could not be fetched; the message is for the person who shared it."""


def allowed_host(url: str, api_url: str) -> bool:
    """files.slack.com, the Web API host itself, or a subdomain of the API host's domain."""
    host = (urlparse(url).hostname or "").lower()
    api_host = (urlparse(api_url).hostname or "").lower()
    if urlparse(url).scheme not in ("https", "http") or not host:
        return False
    if urlparse(url).scheme == "http" and host not in ("127.0.0.1", "localhost"):
        return False  # the token never crosses the network in clear
    domain = api_host.split(".", 1)[1] if api_host.count(".") >= 2 else api_host
    return host in (api_host, "files.slack.com") or host.endswith("." + domain)


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
    if not allowed_host(url, api_url):
        raise DownloadError("the file is not hosted by Slack, so I did not download it")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
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
