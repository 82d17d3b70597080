"""Instructor solutions for notebook 03-resumption-mechanisms (run this file: every check must pass).

Participants write these functions in the notebook's exercise cells; the check cells call
course.exercises with them. Keep this folder out of the handout if you want the answers hidden.
"""

import pathlib
import sys

# course/ (the exercise checks) sits beside this folder, in notebooks/ as in a participant's workspace/:
# `python notebooks/solutions/THIS.py` runs from any folder.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from course import exercises


def resumable_data(client):
    # NewSessionTicket is a post-handshake message: process what has arrived, then look at
    # GNUTLS_SFLAGS_SESSION_TICKET before asking, so the dummy never leaves this function.
    client.read_available()
    if not client.ticket_received:
        return None
    return client.get_data()


def nonblocking_data(client):
    # Under GNUTLS_NONBLOCK get_data2 never waits for the ticket: read the waiting records yourself.
    client.read_available()
    return client.get_data()


def did_resume(conn):
    # gnutls_session_is_resumed: the server's acceptance, not the client's offer.
    return conn.client.is_resumed()


CHECKS = {
    "resumable_data": (exercises.check_resumable_data, resumable_data),
    "nonblocking_data": (exercises.check_nonblocking_data, nonblocking_data),
    "did_resume": (exercises.check_did_resume, did_resume),
}

if __name__ == "__main__":
    for check, answer in CHECKS.values():
        result = check(answer)
        print(result)
        assert result.passed
