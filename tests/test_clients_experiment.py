"""Real TLS clients (gnutls-cli, openssl s_client, Python's ssl, the lab client) resuming against the lab
server, and what a passive observer links (gnutls_lab.network._clients_experiment, ``experiment clients``).

Observed on GnuTLS 3.7.9 with OpenSSL 3.0 and GnuTLS 3.8.9 with OpenSSL 3.5 alike:
- libgnutls clients resend the session's legacy_session_id on every TLS 1.3 resumption; OpenSSL
  (s_client and Python's ssl) sends a fresh random 32-byte one each time, so with fresh tickets
  nothing links its TLS 1.3 visits.
- gnutls-cli's ``^resume^`` offers only session data from a full handshake: a resumed connection gives it
  none, so its visits alternate full, resumed, full, resumed and link in pairs.
- Under TLS 1.2 the GnuTLS server sends no new ticket on a resumed handshake, so every client that
  keeps its last session offers the first ticket again: all its visits link.
"""

from __future__ import annotations

import json

import pytest

from gnutls_lab.errors import UsageError
from gnutls_lab.faces.cli import main
from gnutls_lab.network._clients_experiment import CLIENTS, run_client

pytestmark = pytest.mark.peers

VISITS = 4
_runs: dict = {}


def run(name: str, tls: str):
    """One run per (client, protocol) for the whole module: each is a few seconds of real handshakes."""
    if (name, tls) not in _runs:
        _runs[name, tls] = run_client(name, tls, VISITS)
    return _runs[name, tls]


def client_session_ids(result) -> list:
    return [connection.client_hello.session_id for connection in result.observed]


@pytest.mark.parametrize("name", ["gnutls-lab"])
def test_libgnutls_client_resends_its_legacy_session_id_so_every_tls13_visit_links(name):
    result = run(name, "1.3")
    assert result.resumed_visits == [1, 2, 3]
    ids = client_session_ids(result)
    assert len(ids[0]) == 32 and len(set(ids)) == 1  # one legacy_session_id, sent on every visit
    assert result.session_id_repeats is True
    assert result.linkable_pair_fraction == 1.0
    assert result.ticket_linkable_pair_fraction == 0.0  # fresh tickets: the tickets alone link nothing
    assert {link.kind for link in result.linkage.links} == {"session_id"}


@pytest.mark.parametrize("name", ["openssl", "python-ssl"])
def test_openssl_clients_send_a_fresh_legacy_session_id_so_no_tls13_visit_links(name):
    result = run(name, "1.3")
    assert result.missing is None and result.protocol == "TLS1.3"
    assert result.resumed == VISITS - 1 and result.resumed_visits == [1, 2, 3]
    ids = client_session_ids(result)
    assert all(len(value) == 32 for value in ids) and len(set(ids)) == VISITS  # compat mode, random each time
    assert result.session_id_repeats is False
    assert result.linkable_pair_fraction == 0.0 and result.ticket_linkable_pair_fraction == 0.0
    assert all(connection.client_hello.psk_identities for connection in result.observed[1:])


def test_gnutls_cli_resumes_every_other_visit_and_links_each_pair_by_session_id():
    result = run("gnutls-cli", "1.3")
    assert result.client.startswith("gnutls-cli 3.")
    assert result.resumed_visits == [1, 3]  # ^resume^ after a resumed connection has nothing to offer
    assert [bool(c.client_hello.psk_identities) for c in result.observed] == [False, True, False, True]
    ids = client_session_ids(result)
    assert ids[0] == ids[1] != ids[2] == ids[3]
    assert result.session_id_repeats is True
    assert result.linkage.clusters == ((0, 1), (2, 3))
    assert result.linkable_pair_fraction == pytest.approx(2 / 6)
    assert result.ticket_linkable_pair_fraction == 0.0


@pytest.mark.parametrize("name", ["openssl", "python-ssl", "gnutls-lab"])
def test_tls12_clients_offer_the_first_ticket_again_and_every_visit_links(name):
    result = run(name, "1.2")
    assert result.protocol == "TLS1.2" and result.resumed_visits == [1, 2, 3]
    tickets = [c.client_hello.session_ticket for c in result.observed[1:]]
    assert len(set(tickets)) == 1 and tickets[0]  # no new ticket on a resumed TLS 1.2 handshake
    assert result.linkable_pair_fraction == 1.0 and result.ticket_linkable_pair_fraction == 1.0
    assert result.session_id_repeats is True  # with the same ticket comes the same session ID
    assert all(c.server_hello.session_id == c.client_hello.session_id for c in result.observed[1:])


def test_gnutls_cli_tls12_links_pairs_by_ticket_without_resending_a_session_id():
    result = run("gnutls-cli", "1.2")
    assert result.resumed_visits == [1, 3]
    assert result.linkage.clusters == ((0, 1), (2, 3))
    assert {link.kind for link in result.linkage.links} == {"ticket"}
    assert result.linkable_pair_fraction == pytest.approx(2 / 6) == result.ticket_linkable_pair_fraction
    assert result.session_id_repeats is False


def test_cli_json_reports_every_client(capsys):
    assert main(["experiment", "clients", "--tls", "1.3", "--visits", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["experiment"] == "clients" and out["tls"] == "1.3" and out["visits"] == 2
    assert [r["name"] for r in out["results"]] == list(CLIENTS)
    by_name = {r["name"]: r for r in out["results"]}
    for record in out["results"]:
        assert "missing" not in record and record["protocol"] == "TLS1.3" and record["visits"] == 2
        assert record["resumed"] == 1
    assert by_name["gnutls-lab"]["session_id_repeats"] is True and by_name["gnutls-lab"]["linkable_pair_fraction"] == 1.0
    assert by_name["openssl"]["session_id_repeats"] is False and by_name["openssl"]["linkable_pair_fraction"] == 0.0
    assert by_name["python-ssl"]["client"].startswith("Python 3.") and "OpenSSL" in by_name["python-ssl"]["client"]


def test_a_missing_program_is_reported_not_skipped(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: neither gnutls-cli nor openssl is found
    assert main(["experiment", "clients", "--visits", "2", "--json"]) == 0
    by_name = {r["name"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert by_name["gnutls-cli"]["missing"] == "gnutls-cli not found: install it with `apt-get install gnutls-bin`"
    assert by_name["openssl"]["missing"] == "openssl not found: install it with `apt-get install openssl`"
    assert by_name["openssl"]["linkable_pair_fraction"] is None
    assert by_name["gnutls-lab"]["resumed"] == 1 and "missing" not in by_name["python-ssl"]
    assert main(["experiment", "clients", "--visits", "2"]) == 0
    assert "missing: openssl not found" in capsys.readouterr().out


def test_bad_arguments_are_one_line_errors(capsys):
    with pytest.raises(UsageError, match="unknown client"):
        run_client("curl", "1.3")
    with pytest.raises(UsageError, match="at least 2 visits"):
        run_client("gnutls-lab", "1.3", 1)
    assert main(["experiment", "clients", "--visits", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_plot_clients_states_per_protocol_what_links():
    from gnutls_lab.faces._plots import plot_clients
    from gnutls_lab.network._clients_experiment import ClientRun

    runs = [run("gnutls-lab", "1.3"), run("openssl", "1.3"), run("openssl", "1.2"),
            ClientRun("gnutls-cli", "gnutls-cli", "TLS1.2", missing="gnutls-cli not found: install gnutls-bin")]
    fig = plot_clients(runs)
    top, bottom = fig.axes[:2]
    assert "a resent session ID links gnutls-lab" in top.get_title(loc="left")
    assert "nothing links openssl" in top.get_title(loc="left")
    assert "tickets link openssl" in bottom.get_title(loc="left")
    assert any(t.get_text() == "missing: gnutls-cli not found" for t in bottom.texts)
    with pytest.raises(UsageError):
        plot_clients([])
