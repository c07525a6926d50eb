"""The HTML the person sees: the sign-in + consent page and the error pages (no external assets).

Styled like the dashboard (its indigo accent, light surfaces and system font, from
.streamlit/config.toml), naming the application by its registered name, and every error page
saying what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from broker.demo_provider.directory import DEMO_PASSWORD, SCOPES, USERS, user_by_email

_DESCRIPTIONS: dict[str, str] = {name: text for name, text in SCOPES.items()}
_STYLE = """
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
  font:15px/1.45 "Source Sans Pro","Source Sans 3",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  background:#f4f5fa;color:#1e2030}
main{width:100%;max-width:440px;margin:24px;background:#fff;border-radius:12px;
  border:1px solid #e3e5ee;box-shadow:0 4px 20px rgba(30,32,48,.08);padding:28px 30px}
.brand{display:flex;align-items:center;gap:10px;font-weight:650;font-size:17px;margin-bottom:18px}
.logo{width:32px;height:32px;border-radius:8px;background:#4f46e5;color:#fff;display:flex;
  align-items:center;justify-content:center;font-weight:700}
h1{font-size:19px;margin:0 0 6px}
p{margin:0 0 14px;color:#4a4f5e}
label.field{display:block;font-size:13px;font-weight:600;margin:10px 0 4px}
input[type=email],input[type=password]{width:100%;padding:9px 11px;border:1px solid #c9ccd8;
  border-radius:8px;font:inherit}
fieldset{border:1px solid #e2e4ec;border-radius:10px;margin:16px 0;padding:8px 14px}
legend{font-size:13px;font-weight:600;padding:0 4px}
.scope{display:flex;gap:10px;align-items:flex-start;padding:7px 0}
.scope small{display:block;color:#6b7080}
.hint{background:#eef0ff;border-radius:8px;padding:8px 11px;font-size:13px;color:#3c3f8f}
.error{background:#fdecec;color:#9b1c1c;border-radius:8px;padding:8px 11px;margin-bottom:12px}
.next{background:#f4f5fa;border-left:3px solid #4f46e5;border-radius:6px;padding:9px 12px;
  color:#1e2030}
.actions{display:flex;gap:10px;margin-top:18px}
button{flex:1;padding:10px;border-radius:8px;border:1px solid #c9ccd8;background:#fff;font:inherit;
  font-weight:600;cursor:pointer}
button.primary{background:#4f46e5;border-color:#4f46e5;color:#fff}
code{font-size:13px}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)} · Acme Calendar</title><style>{_STYLE}</style></head><body><main>"
        "<div class='brand'><div class='logo'>A</div>Acme Calendar</div>"
        f"{body}</main></body></html>"
    )


def consent_page(
    client_name: str,
    requested: Sequence[str],
    oauth_params: Mapping[str, str],
    *,
    login_hint: str = "",
    error: str | None = None,
) -> str:
    """Sign in and choose what ``client_name`` may access; posts back to ``/oauth/authorize``.

    The email starts as ``login_hint`` when it names a demo account (the dashboard sends the
    signed-in person's email), else as the first demo account.
    """
    hidden = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>"
        for k, v in oauth_params.items()
    )
    scopes = "".join(
        "<label class='scope'>"
        f"<input type='checkbox' name='grant_scope' value='{escape(s)}' checked>"
        f"<span><code>{escape(s)}</code><small>{escape(_DESCRIPTIONS.get(s, ''))}</small></span>"
        "</label>"
        for s in requested
    )
    hinted = user_by_email(login_hint)
    demo = hinted.email if hinted else USERS[0].email
    return _page(
        "Sign in",
        (f"<div class='error' role='alert'>{escape(error)}</div>" if error else "")
        + f"<h1>Sign in to continue to <b>{escape(client_name)}</b></h1>"
        f"<p>{escape(client_name)} wants access to your Acme Calendar account.</p>"
        f"<div class='hint'>Demo account: <b>{escape(demo)}</b> · password <b>{DEMO_PASSWORD}</b></div>"
        f"<form method='post' action='/oauth/authorize'>{hidden}"
        "<label class='field' for='email'>Email</label>"
        f"<input id='email' type='email' name='email' value='{escape(demo)}' required>"
        "<label class='field' for='password'>Password</label>"
        "<input id='password' type='password' name='password' autocomplete='current-password'>"
        f"<fieldset><legend>Allow access to</legend>{scopes}</fieldset>"
        "<div class='actions'>"
        "<button type='submit' name='decision' value='deny'>Deny</button>"
        "<button class='primary' type='submit' name='decision' value='approve'>Allow</button>"
        "</div></form>",
    )


def error_page(title: str, description: str, next_step: str) -> str:
    """A page for a request that cannot be sent back to its client: what happened, what next."""
    return _page(
        title,
        f"<h1>{escape(title)}</h1><p>{escape(description)}</p>"
        f"<p class='next'><b>What to do:</b> {escape(next_step)}</p>",
    )
