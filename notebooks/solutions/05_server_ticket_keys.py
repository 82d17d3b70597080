"""Instructor solutions for notebook 05-server-ticket-keys (run this file: every check must pass).

Participants write these functions in the notebook's exercise cells; the check cells call
course.tracking with them. Keep this folder out of the handout if you want the answers hidden.
"""

import hashlib
import pathlib
import struct
import sys

# course/ (the exercise checks) sits beside this folder, in notebooks/ as in a participant's workspace/:
# `python notebooks/solutions/THIS.py` runs from any folder.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from course import tracking


def key_name(master_key, unix_time, lifetime):
    # lib/stek.c: period t = floor(now / (3 × expire_time)); the period's key is
    # SHA3-512(u64_be(t) ‖ master key), split as name [0:16], AES key [16:48], HMAC key [48:64].
    period = int(unix_time) // (3 * int(lifetime))
    return hashlib.sha3_512(struct.pack(">Q", period) + master_key).digest()[:16]


def exposed(seen):
    hello = seen.server_hello
    if hello is None:
        return False
    if hello.selected_version < 0x0304:
        # TLS 1.2: any ticket on this wire (issued in clear, or presented) holds the master secret
        return bool(seen.new_session_tickets or seen.client_hello.session_ticket)
    # TLS 1.3: only a resumption shows a ticket, and only psk_ke (no key_share, extension 51, in the
    # ServerHello) derives every key from it; psk_dhe_ke mixes in a fresh ECDHE secret
    return hello.psk_selected_identity is not None and 51 not in hello.extension_types


CHECKS = {
    "key_name": (tracking.check_key_name, key_name),
    "exposed": (tracking.check_exposed, exposed),
}

if __name__ == "__main__":
    for check, answer in CHECKS.values():
        result = check(answer)
        print(result)
        assert result.passed
