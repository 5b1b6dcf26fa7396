"""aiosmtpd with TLS and a password, for tests/external/mail_tls.rs: STARTTLS (required before any
mail or AUTH) or implicit TLS, AUTH LOGIN/PLAIN checked against one user, messages stored in
a Maildir. Usage: smtp_tls.py starttls|implicit PORT MAILDIR CERT KEY USER PASSWORD"""
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

mode, port, maildir, cert, key, user, password = sys.argv[1:8]
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    # handled=False: aiosmtpd answers 535 itself (the default leaves the client waiting).
    return AuthResult(success=ok, handled=False)


options = dict(authenticator=authenticate, auth_required=True)
if mode == "starttls":
    controller = Controller(
        Mailbox(maildir), hostname="127.0.0.1", port=int(port),
        tls_context=context, require_starttls=True, auth_require_tls=True, **options,
    )
else:
    controller = Controller(
        Mailbox(maildir), hostname="127.0.0.1", port=int(port),
        ssl_context=context, auth_require_tls=False, **options,
    )
controller.start()
print("ready", flush=True)
sys.stdin.read()  # until the test closes it, or kills this process
controller.stop()
