"""The spy's report beside a lab server's record of the same connections: paired, and compared.

A report (:meth:`gnutls_lab.analysis._spy.SpyReport.to_dict`) and the server's log entries
(``ServedConnection.log_entry()``, what ``gnutls-lab serve --log`` writes) are both plain dicts, so the
recorded runs in ``data/spy/`` are checked exactly as live ones.
"""

from __future__ import annotations

from itertools import zip_longest

__all__ = ["pair_with_server", "server_disagreements"]


def pair_with_server(report: dict, served: list) -> list[tuple]:
    """The spy's successful client handshakes (:meth:`SpyReport.to_dict`) paired with a lab server's record
    of each connection (``ServedConnection.log_entry()``, in connection order).

    Returns ``(session, record, how)`` triples; ``how`` is ``"address"`` (the client's address and port:
    the spy read them from the session's socket, the server from its accepted connection), ``"ticket"``
    (a resumption, by the ticket or session ID the server resumed from) or ``"order"`` (what is left, in
    the order of handshakes and of connections). A side without a partner is None. With threads the
    order of handshakes differs from the order the server accepted the connections; pairing by address
    does not depend on it, and the ticket pairs each resumption with the one connection it could be.
    """
    sessions = sorted((s for s in report["sessions"] if s["role"] == "client" and s["handshake_rc"] == 0),
                      key=lambda s: s["handshake_ms"])
    left = list(range(len(served)))  # indexes into served not paired yet
    pairs: list = []
    by_address = {}
    for i, record in enumerate(served):
        if record.get("client_port") is not None:
            by_address.setdefault((record.get("client_address"), record["client_port"]), i)
    unpaired = []
    for session in sessions:
        i = by_address.get((session.get("local_address"), session.get("local_port")))
        if session.get("local_port") is not None and i in left:
            pairs.append((session, served[i], "address"))
            left.remove(i)
        else:
            unpaired.append(session)
    by_order = []
    for session in unpaired:
        i = next((i for i in left if served[i]["resumed"] and session["resumed"] and session["ticket_id_offered"]
                  and served[i]["ticket_id"] == session["ticket_id_offered"]), None)
        if i is None:
            by_order.append(session)
        else:
            pairs.append((session, served[i], "ticket"))
            left.remove(i)
    pairs += [(session, None if i is None else served[i], "order")
              for session, i in zip_longest(by_order, left)]
    return pairs


def server_disagreements(report: dict, served: list, tls: str) -> list[str]:
    """Where the spy's report (:meth:`SpyReport.to_dict`) and the lab server's record of the same run
    (``ServedConnection.log_entry()`` per connection, in connection order) disagree; empty when they
    tell one story: the same connections and protocol, the same ones resumed, and each resumption
    offered exactly the ticket or session ID the server resumed from. Sessions and connections are
    paired by :func:`pair_with_server`."""
    pairs = pair_with_server(report, served)
    paired = [(s, r, how) for s, r, how in pairs if s is not None and r is not None]
    problems = []
    handshakes = sum(1 for s, _, _ in pairs if s is not None)
    if not handshakes == len(served) == report["summary"]["handshakes"]:
        problems.append(f"{handshakes} client handshakes seen by the spy, {len(served)} connections served, "
                        f"{report['summary']['handshakes']} in the summary")
    for session, record, how in paired:
        where = f"connection {record.get('connection', '?')} (session #{session['index']}, paired by {how})"
        if session["resumed"] != record["resumed"]:
            problems.append(f"{where}: the spy says {'resumed' if session['resumed'] else 'not resumed'}, the "
                            f"server says {'resumed' if record['resumed'] else 'not resumed'}")
        if not session["protocol"] == f"TLS{tls}" == record["protocol"]:
            problems.append(f"{where}: not TLS {tls} on both sides ({session['protocol']}, {record['protocol']})")
        if record["resumed"] and not session["ticket_id_offered"] == record["ticket_id"] is not None:
            problems.append(f"{where}: the client offered {session['ticket_id_offered']}, the server resumed from "
                            f"{record['ticket_id']}")
        if any(stored["dummy"] != (stored["ticket_id"] is None) for stored in session["stored"]
               if stored.get("spy_kept_bytes") is None):
            problems.append(f"{where}: a stored result names a ticket for a dummy, or none for real data")
    if report["summary"]["resumed"] != sum(r["resumed"] for r in served):
        problems.append("the summary's resumed count differs from the server's")
    return problems
