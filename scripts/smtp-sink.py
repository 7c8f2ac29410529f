#!/usr/bin/env python3
"""A real SMTP server on loopback for the e-mail tests: aiosmtpd, which writes one JSON line per
message it accepts to standard output ({"mail_from", "rcpt_tos", "data"} with the raw message,
and "subject", "to" and "body" as a mail client decodes them), after a first line {"port": N}
once it listens. Runs until standard input closes (the test that started it ends).

    PYTHONPATH=target/test-data/py scripts/smtp-sink.py   # scripts/fetch-test-data unpacks aiosmtpd
"""
import email
import email.policy
import json
import socket
import sys

try:
    from aiosmtpd.controller import Controller
except ImportError:
    sys.exit("smtp-sink: aiosmtpd is not importable; run scripts/fetch-test-data and set "
             "PYTHONPATH=target/test-data/py")


class Print:
    async def handle_DATA(self, server, session, envelope):
        data = envelope.content.decode("utf-8", errors="replace")
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        print(json.dumps({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                          "data": data, "subject": str(message["subject"]),
                          "to": str(message["to"]),
                          "body": body.get_content() if body is not None else ""}), flush=True)
        return "250 Message accepted for delivery"


def main():
    # A free port on loopback (the controller needs a number before it starts).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Print(), hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
