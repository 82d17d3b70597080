"""Instructor solutions for notebook 04-ticket-reuse-and-tracking (run this file: every check must pass).

Participants write these functions in the notebook's exercise cells; the check cells call
course.tracking with them. Keep this folder out of the handout if you want the answers hidden.
"""

import pathlib
import sys

# course/ (the exercise checks) sits beside this folder, in notebooks/ as in a participant's workspace/:
# `python notebooks/solutions/THIS.py` runs from any folder.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from course import tracking


def linkable(first, second):
    # Every value that crossed the wire in clear and could come back: not only TLS 1.3 PSK identities
    # (reused tickets), but session IDs in both hellos (a GnuTLS TLS 1.3 client resends its
    # legacy_session_id on every resumption) and TLS 1.2 tickets, issued and presented in clear.
    # (ObservedConnection.linking_values() gives the same set, tagged with its kind.)
    def in_clear(visit):
        values = set()
        for hello in visit.client_hellos:
            values.add(hello.session_id)
            values.add(hello.session_ticket)
            values.update(psk.identity for psk in hello.psk_identities)
        values.update(hello.session_id for hello in visit.server_hellos)
        values.update(ticket.ticket for ticket in visit.new_session_tickets)
        return values - {b"", None}

    return bool(in_clear(first) & in_clear(second))


CHECKS = {
    "linkable": (tracking.check_linkable, linkable),
}

if __name__ == "__main__":
    for check, answer in CHECKS.values():
        result = check(answer)
        print(result)
        assert result.passed
