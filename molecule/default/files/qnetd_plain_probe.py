# SPDX-License-Identifier: GPL-3.0-or-later
"""Talk to corosync-qnetd as a qdevice client that never starts TLS; print what qnetd answered, as JSON.

Usage: python3 qnetd_plain_probe.py HOST PORT. Run by molecule/default/verify.yml on a pair host;
tests/unit/test_qnetd_plain_probe.py runs it against a local corosync-qnetd with -s req, on and off.

qnetd's protocol (corosync-qdevice, qdevices/msg.c and tlv.c): a message is a 2-byte type and a 4-byte
length (network order), then options, each a 2-byte type, a 2-byte length and the value. A qdevice
client sends `preinit` (its cluster name), reads `preinit_reply` (whose option `tls_supported` says
what the server offers), sends `starttls` when it wants TLS, then `init`. This client sends `init`
right after the preinit reply, without starttls, with no other option than its sequence number:

- qnetd -s req (TLS required) checks TLS before anything else in the init
  (qnetd_client_msg_received_check_tls) and answers with a `server_error` message, reply error code 3
  (TLS_REQUIRED);
- qnetd -s on or off accepts the plain-text init and reads its options: it answers with an `init_reply`
  whose error code says an option is missing or wrong (13, INVALID_HEARTBEAT_INTERVAL, from qnetd 3.0.3;
  7, DOESNT_CONTAIN_REQUIRED_OPTION, from others), never 3.

So only the required-TLS server gives ("server_error", 3). The init is refused either way (it lacks
a node id), so the probe never joins a cluster, and it uses a cluster name no pair has.
"""

import json
import socket
import struct
import sys

PREINIT, PREINIT_REPLY, INIT, INIT_REPLY, SERVER_ERROR = 0, 1, 3, 4, 5
OPT_SEQ, OPT_CLUSTER_NAME, OPT_TLS_SUPPORTED, OPT_REPLY_ERROR_CODE = 0, 1, 2, 6
TYPES = {PREINIT_REPLY: "preinit_reply", INIT_REPLY: "init_reply", SERVER_ERROR: "server_error"}
PROBE_CLUSTER = "vmpair-plain-probe"


def option(kind, value):
    return struct.pack("!HH", kind, len(value)) + value


def message(kind, *options):
    body = b"".join(options)
    return struct.pack("!HI", kind, len(body)) + body


def read_exact(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("qnetd closed the connection")
        data += chunk
    return data


def read_message(sock):
    """(type, {option type: value bytes}) of the next message."""
    kind, length = struct.unpack("!HI", read_exact(sock, 6))
    body = read_exact(sock, length)
    options = {}
    while body:
        opt, size = struct.unpack("!HH", body[:4])
        options[opt] = body[4 : 4 + size]
        body = body[4 + size :]
    return kind, options


def number(value):
    return int.from_bytes(value, "big") if value is not None else None


def probe(host, port):
    result = {"preinit_reply": None, "tls_supported": None, "reply": None, "error_code": None, "closed": False}
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            message(PREINIT, option(OPT_SEQ, struct.pack("!I", 1)), option(OPT_CLUSTER_NAME, PROBE_CLUSTER.encode()))
        )
        kind, options = read_message(sock)
        result["preinit_reply"] = TYPES.get(kind, kind)
        result["tls_supported"] = number(options.get(OPT_TLS_SUPPORTED))
        sock.sendall(message(INIT, option(OPT_SEQ, struct.pack("!I", 2))))
        try:
            kind, options = read_message(sock)
        except (EOFError, ConnectionResetError):
            result["closed"] = True
            return result
        result["reply"] = TYPES.get(kind, kind)
        result["error_code"] = number(options.get(OPT_REPLY_ERROR_CODE))
    return result


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], int(sys.argv[2]))))
