"""Extra Label Studio users for tests, made the way a person makes them: through the invite link.

The session's admin token is shared by every test, so a test that resets a token needs a user of its
own. ``sign_up`` follows the organization's invite link (``/api/invite`` -> ``/user/signup/?token=``),
which puts the new user in the admin's organization (it sees the same projects), then reads the user's
legacy token from ``/api/current-user/token``. Measured on 1.23.2: under a second.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class User:
    email: str
    token: str
    password: str = ""

    def __repr__(self) -> str:  # keep tokens and passwords out of pytest's failure reports
        return f"User(email={self.email!r}, token='***')"


def sign_up(url: str, admin_token: str) -> User:
    """A new member of the admin's organization, with its own legacy API token."""
    invite = httpx.get(f"{url}/api/invite", headers={"Authorization": f"Token {admin_token}"}, timeout=30)
    invite.raise_for_status()
    email, password = f"member-{uuid.uuid4().hex[:10]}@example.com", uuid.uuid4().hex
    with httpx.Client(base_url=url, timeout=30) as browser:
        browser.get("/user/signup/").raise_for_status()  # sets the CSRF cookie, as a browser would get it
        csrf = browser.cookies["csrftoken"]
        form = {"email": email, "password": password, "csrfmiddlewaretoken": csrf, "how_find_us": "Other"}
        signed = browser.post(f"/user/signup/?token={invite.json()['token']}", data=form)
        if signed.status_code != 302:
            raise RuntimeError(f"Sign-up of {email} failed with {signed.status_code}: {signed.text[:300]}")
        token = browser.get("/api/current-user/token")
        token.raise_for_status()
    return User(email, token.json()["token"], password)


def reset_token(url: str, token: str) -> str:
    """What "Reset" next to the legacy token in Account & Settings does: the old token stops working."""
    reset = httpx.post(f"{url}/api/current-user/reset-token/", headers={"Authorization": f"Token {token}"}, timeout=30)
    reset.raise_for_status()
    return reset.json()["token"]
