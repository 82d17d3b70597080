"""gnutls_lab.sessions._mechanisms: every way to resume, named once, checked against a live resumption and
what a passive observer sees of it; the experiments, the CLI and the plots take it from the table."""

from __future__ import annotations

import json

import pytest

from gnutls_lab import Lab, UsageError
from gnutls_lab.analysis import ExperimentConfig, observe_connection, run_experiment
from gnutls_lab.faces.cli import main
from gnutls_lab.sessions import MECHANISMS, Mechanism, mechanism

#: psk_key_exchange_modes code points (RFC 8446 §4.2.9) and the key_share extension's type (§4.2.8)
PSK_KE_MODES = {0: "psk_ke", 1: "psk_dhe_ke"}
KEY_SHARE = 51


@pytest.mark.parametrize("name", list(MECHANISMS))
def test_each_mechanism_resumes_as_its_entry_says(name):
    entry = MECHANISMS[name]
    assert entry.name == name and mechanism(name) is entry and mechanism(entry) is entry
    lab = Lab(**entry.lab_options())
    first = lab.connect(observe="wire")
    again = lab.connect(resume=first.session_data, observe="wire")
    assert again.resumed and again.protocol == entry.protocol
    seen = observe_connection(again.wire)
    assert seen.resumed
    presented = {kind for kind, _ in seen.linking_values()}
    assert entry.identity in presented
    if not entry.client_tickets:
        assert not presented & {"ticket", "psk_identity"}
    modes = tuple(PSK_KE_MODES[m] for m in seen.client_hello.psk_ke_modes)
    assert sorted(modes) == sorted(entry.psk_ke_modes)
    if entry.key_share is not None:
        assert (KEY_SHARE in seen.server_hello.extension_types) is entry.key_share


def test_the_table_names_each_mechanism_once():
    assert len({m.label for m in MECHANISMS.values()}) == len(MECHANISMS)
    assert len({(m.tls, m.cli) for m in MECHANISMS.values()}) == len(MECHANISMS)
    assert all(isinstance(m, Mechanism) for m in MECHANISMS.values())
    # the order of the (tls, tickets, session_cache) tuples the table replaced, which callers index
    assert [m[:3] for m in MECHANISMS.values()] == [(m.tls, m.tickets, m.session_cache) for m in MECHANISMS.values()]
    with pytest.raises(UsageError, match="unknown mechanism 'tls14'.*tls13-psk-ke"):
        mechanism("tls14")
    with pytest.raises(UsageError, match="unknown mechanism"):
        ExperimentConfig(mechanism="tls14")


def test_psk_ke_is_one_entry_the_experiments_and_the_cli_take(capsys):
    result = run_experiment(mechanism="tls13-psk-ke", visits=4, max_reuse=1, gap=60, progress=False)
    assert result.summary()["resumed"] == 3 and result.config.protocol == "1.3"
    assert main(["experiment", "reuse", "--json", "--tls", "1.3", "--mechanism", "psk-ke", "--visits", "3",
                 "--max-reuse", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["mechanism"] == "tls13-psk-ke" and out["results"][0]["resumed"] == 2
    assert main(["experiment", "reuse", "--tls", "1.2", "--mechanism", "psk-ke"]) == 2
    assert "--mechanism psk-ke exists only with --tls 1.3" in capsys.readouterr().err
