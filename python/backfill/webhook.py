"""Post failing reconciliation checks to a webhook (Slack relays, PagerDuty
events, an internal alerting endpoint): one JSON document per run."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from backfill.errors import InvalidInput

TIMEOUT_SECONDS = 10


def check_url(url: str) -> str:
    """Refuse anything but an http(s) URL before any check runs."""
    parts = urllib.parse.urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"--webhook must be an http:// or https:// URL (got '{url}').")
    return url


def reachable_problem(url: str) -> str | None:
    """Why the webhook's host cannot be reached (a TCP connection to it, nothing sent), or None.

    Asked before the checks run, so a run with nothing to post still says that the
    alerting it relies on would not have worked."""
    parts = urllib.parse.urlparse(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=TIMEOUT_SECONDS).close()
    except OSError as error:
        return f"the webhook could not be reached ({error.strerror or error})"
    return None


def post_json(url: str, payload: dict) -> int:
    """POST the payload; the HTTP status, or an OSError saying why it could not be delivered."""
    body = json.dumps(payload, default=str).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "backfill-reconcile"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise OSError(f"the webhook answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise OSError(f"the webhook could not be reached ({reason})") from None
