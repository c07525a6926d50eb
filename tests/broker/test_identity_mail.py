"""Email codes over SMTP, against a real SMTP server on loopback (aiosmtpd).

The code reaches the mailbox and nowhere else (no outbox row); a server that refuses, is down
or needs a login is handled with one clear error and no live code; a slow server does not stall
the broker; an unusable ``OUTBOUND_SMTP_URL`` refuses to start.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from broker.config import BrokerSettings, StartupRefused
from broker.context import bootstrap
from broker.crypto import Secret
from broker.store.identity import OtpCode, OutboxMessage
from tests.support.identity import sign_in_new_user
from tests.support.mailbox import Mailbox, start_mailbox
from tests.support.servers import LiveBroker, free_port, start_broker


@pytest.fixture(scope="module")
def broker_settings(mailbox: Mailbox) -> dict[str, Any]:
    """Email goes out through the module's mailbox; no demo mode."""
    return {"smtp_url": Secret(mailbox.url), "smtp_from": "Outbound <no-reply@acme.test>"}


def _send(live: LiveBroker, login_id: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/auth/otp/signin/email",
        json={"loginId": login_id},
        headers=live.project_headers(),
        timeout=30,
    )


def _verify(live: LiveBroker, login_id: str, code: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/auth/otp/verify/email",
        json={"loginId": login_id, "code": code},
        headers=live.project_headers(),
    )


def _stored(live: LiveBroker, model: Any, login_id: str) -> int:
    with live.broker.db.session() as s:
        count: int = s.scalar(
            select(func.count()).select_from(model).where(model.login_id == login_id)
        )
    return count


def test_the_code_is_emailed_and_signs_in(live_broker: LiveBroker, mailbox: Mailbox) -> None:
    user = sign_in_new_user(live_broker)
    sent = _send(live_broker, user.login_id)
    assert sent.status_code == 200, sent.text
    (message,) = mailbox.messages_to(user.login_id)
    assert message["Subject"] == "Your sign-in code"
    assert message["From"] == "Outbound <no-reply@acme.test>"
    code = mailbox.latest_code(user.login_id)
    assert "5 minutes" in message.get_content()
    assert _stored(live_broker, OutboxMessage, user.login_id) == 0  # the mailbox, only
    verified = _verify(live_broker, user.login_id, code)
    assert verified.status_code == 200
    assert verified.json()["user"]["userId"] == user.user_id


def test_a_sign_up_code_is_emailed_too(live_broker: LiveBroker, mailbox: Mailbox) -> None:
    login = "newcomer-by-mail@example.test"
    sent = httpx.post(
        f"{live_broker.url}/v1/auth/otp/signup-in/email",
        json={"loginId": login},
        headers=live_broker.project_headers(),
    )
    assert sent.status_code == 200, sent.text
    verified = _verify(live_broker, login, mailbox.latest_code(login))
    assert verified.status_code == 200 and verified.json()["user"]["email"] == login


def test_a_refused_recipient_is_a_clear_error_and_leaves_no_live_code(
    live_broker: LiveBroker, mailbox: Mailbox
) -> None:
    user = sign_in_new_user(live_broker)
    mailbox.refuse()
    try:
        sent = _send(live_broker, user.login_id)
    finally:
        mailbox.refuse(False)
    assert sent.status_code == 502
    assert sent.json()["errorCode"] == "E061202"
    assert "127.0.0.1" in sent.json()["errorMessage"]
    assert _stored(live_broker, OtpCode, user.login_id) == 0


def test_a_mail_server_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    live = start_broker(tmp_path, smtp_url=Secret(f"smtp://127.0.0.1:{free_port()}"))
    try:
        user = sign_in_new_user(live)
        sent = _send(live, user.login_id)
        assert sent.status_code == 502 and sent.json()["errorCode"] == "E061202"
        assert _stored(live, OtpCode, user.login_id) == 0
    finally:
        live.stop()


def test_the_mail_server_login_uses_the_url_credentials(tmp_path: Path) -> None:
    box = start_mailbox(credentials=("outbound@acme.test", "p@ss:w/rd"))
    live = start_broker(tmp_path, smtp_url=Secret(box.url))
    try:
        user = sign_in_new_user(live)
        assert _send(live, user.login_id).status_code == 200
        assert box.logins == [("outbound@acme.test", "p@ss:w/rd")]
        assert _verify(live, user.login_id, box.latest_code(user.login_id)).status_code == 200
    finally:
        live.stop()
        box.stop()


def test_a_wrong_mail_server_password_is_a_clear_error(tmp_path: Path) -> None:
    box = start_mailbox(credentials=("outbound", "right"))
    wrong = box.url.replace(":right@", ":wrong@")
    live = start_broker(tmp_path, smtp_url=Secret(wrong))
    try:
        sent = _send(live, sign_in_new_user(live).login_id)
        assert sent.status_code == 502 and sent.json()["errorCode"] == "E061202"
        assert "wrong" not in sent.text  # the password never comes back
    finally:
        live.stop()
        box.stop()


def test_a_slow_mail_server_does_not_stall_the_broker(
    live_broker: LiveBroker, mailbox: Mailbox
) -> None:
    user = sign_in_new_user(live_broker)
    mailbox.hold()
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(_send(live_broker, user.login_id)))
    try:
        sender.start()
        # While the send waits on the mail server, the broker answers everyone else.
        for _ in range(3):
            health = httpx.get(f"{live_broker.url}/v1/x/health", timeout=5)
            assert health.status_code == 200
        assert sender.is_alive(), "the send did not wait for the held server"
    finally:
        mailbox.release()
        sender.join(30)
    assert [a.status_code for a in answers] == [200]
    assert _verify(live_broker, user.login_id, mailbox.latest_code(user.login_id)).is_success


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.test",
        "smtp://",
        "smtp://mail.example.test:notaport",
        "smtp://user:hunter2@mail.example.test:99999",
    ],
)
def test_an_unusable_smtp_url_refuses_to_start(tmp_path: Path, url: str) -> None:
    settings = BrokerSettings(data_dir=tmp_path / "data", smtp_url=Secret(url))
    with pytest.raises(StartupRefused) as refused:
        bootstrap(settings)
    assert "OUTBOUND_SMTP_URL" in str(refused.value)
    assert "hunter2" not in str(refused.value) and "hunter2" not in repr(settings)
    assert not (tmp_path / "data").exists()


def test_worker_processes_get_the_mail_and_demo_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "smtps://outbound:s3cret@mail.example.test"
    settings = BrokerSettings(smtp_url=Secret(url), smtp_from="a@b.test", demo_mode=True)
    for name, value in settings.to_env().items():  # what `--workers N` hands each worker
        monkeypatch.setenv(name, value)
    again = BrokerSettings.from_env()
    assert again.smtp_url == Secret(url) and again.smtp_from == "a@b.test" and again.demo_mode
    assert "s3cret" not in repr(again)


def test_a_code_never_crosses_the_network_without_tls(tmp_path: Path, mailbox: Mailbox) -> None:
    # "127.1" reaches the loopback mailbox, but does not read as loopback: it stands for a
    # server elsewhere that offers no STARTTLS. The message is not sent, and says why.
    live = start_broker(tmp_path, smtp_url=Secret(f"smtp://127.1:{mailbox.port}"))
    try:
        user = sign_in_new_user(live)
        sent = _send(live, user.login_id)
        assert sent.status_code == 502 and "STARTTLS" in sent.json()["errorMessage"]
        assert mailbox.messages_to(user.login_id) == []
    finally:
        live.stop()


def test_a_header_injection_in_the_address_sends_nothing(
    live_broker: LiveBroker, mailbox: Mailbox
) -> None:
    login = "crlf@example.test"
    created = httpx.post(
        f"{live_broker.url}/v1/mgmt/user/create",
        headers=live_broker.mgmt_headers(),
        json={"loginId": login, "email": "crlf@example.test\r\nBcc: thief@evil.test"},
    )
    assert created.status_code == 200, created.text
    sent = _send(live_broker, login)
    assert sent.status_code == 400 and sent.json()["errorCode"] == "E011004"
    assert mailbox.messages_to("thief@evil.test") == mailbox.messages_to(login) == []
    assert _stored(live_broker, OtpCode, login) == 0
