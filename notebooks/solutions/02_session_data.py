"""Instructor solutions for notebook 02-session-data (run this file: every check must pass).

Participants write these functions in the notebook's exercise cells; the check cells call
course.exercises with them. Keep this folder out of the handout if you want the answers hidden.
"""

import pathlib
import sys
import time

# course/ (the exercise checks) sits beside this folder, in notebooks/ as in a participant's workspace/:
# `python notebooks/solutions/THIS.py` runs from any folder.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from course import exercises
from gnutls_lab.analysis import decode


def is_resumable(data):
    # The dummy is exactly 00 00 00 00, whatever holds it; get_data2 returned success for it.
    if bytes(data) == bytes(4):
        return False
    # A TLS 1.3 client stops offering a ticket older than its own copy of the lifetime.
    tls13 = decode(data).tls13
    return tls13 is None or time.time() - tls13.arrival_time.timestamp() < tls13.lifetime


def ticket_lifetime(data):
    # The TLS 1.3 section keeps the lifetime of the last NewSessionTicket received.
    return decode(data).tls13.lifetime


CHECKS = {
    "is_resumable": (exercises.check_is_resumable, is_resumable),
    "ticket_lifetime": (exercises.check_ticket_lifetime, ticket_lifetime),
}

if __name__ == "__main__":
    for check, answer in CHECKS.values():
        result = check(answer)
        print(result)
        assert result.passed
