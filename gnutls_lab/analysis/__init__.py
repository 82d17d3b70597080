"""Layer 4, analysis: what the bytes and the handshakes mean.

Modules (private; this face re-exports what users and the layers above use):

- ``_decode``: the session blob decoded (``DecodedSession``), its secrets redacted (``_secrets``),
  tampered and rebuilt (``_tamper``). Its views (JSON, text, hex, HTML) are in ``gnutls_lab.faces``.
- ``_tamper``: the tamper lab's path language: which field a change names, the blob rebuilt with it.
- ``_secrets``: bytes that print redacted.
- ``_ticket_keys``: server tickets decrypted with their key, key periods.
- ``_recorded``: recorded traffic read with a stolen ticket key.
- ``_observer``: one connection as a passive observer sees it.
- ``_linkage``: which visits an observer links.
- ``_experiments``: ticket reuse, lifetime and rotation, measured on real handshakes.
- ``_replay``: 0-RTT first flights replayed, case by case.
- ``_spy``: the spy's log of a real program, read into sessions and findings.
- ``_spy_processes``: the processes of a spied run, and what the spy could not see in them.
- ``_spy_server``: a spy report paired with a lab server's record of the same connections.
- ``_facts``: what libgnutls does with resumption, measured live (the notebooks' checks).
- ``_known_crashes``: library versions with a known crash on one of the tamper lab's changes.
- ``_audit``: what an audit of a real server found (``AuditReport``: its records and findings);
  ``_audit_tracking`` (tracking periods from a measured policy), ``_audit_verdict`` (the paragraph,
  evidence and advice) and ``_ticket_audit`` (ticket layouts, guessable keys, secrets in clear) beside it.
"""

from ._audit import AuditConnection, AuditReport, ProbeRecord, judge_replay
from ._audit_verdict import identify_software
from ._decode import REDACTED, DecodedSession, Field, decode, is_secret, name_of
from ._facts import (
    attempt_resumption,
    client_lifetime_copy,
    compat_mode_switch,
    early_data_on_a_ticket_without_it,
    early_data_with_a_larger_claimed_age,
    expiry_on_each_clock,
    partial_set_data,
    psk_ke_resumption,
    public_ticket_key_exposure,
    server_expiry_rules,
    stored_max_early_data_size,
    ticket_timing,
    tickets_without_psk_key_exchange_modes,
    version_flip_in_set_data,
)
from ._known_crashes import known_crash
from ._experiments import (
    MAX_SWEEP_VISITS,
    MECHANISMS,
    SY2018_REVISIT_CDF,
    ExperimentConfig,
    run_experiment,
    sweep,
    sweep_reuse,
)
from ._linkage import TICKET_LINK_KINDS, Linkage, Observer, link_visits
from ._observer import ObservedConnection, observe_connection
from ._recorded import read_recorded_resumption, read_recorded_tls12
from ._replay import REAL_CLOCK_WINDOWS, replay_case, replay_experiment, replay_sweep
from ._spy import analyse as analyse_spy_log, identity_id, pair_with_server, server_disagreements
from ._secrets import Secret
from ._ticket_audit import AuditedTicket, KnownSecret, tls13_ticket_psk
from ._ticket_keys import decrypt_ticket, load_ticket_key, period_key, period_of

__all__ = [
    # the session blob
    "decode",
    "DecodedSession",
    "Field",
    "is_secret",
    "name_of",
    "REDACTED",
    # server tickets and their keys
    "load_ticket_key",
    "decrypt_ticket",
    "period_key",
    "period_of",
    "read_recorded_tls12",
    "read_recorded_resumption",
    # the passive observer and what it links
    "observe_connection",
    "ObservedConnection",
    "Observer",
    "link_visits",
    "Linkage",
    "TICKET_LINK_KINDS",
    # experiments
    "ExperimentConfig",
    "run_experiment",
    "sweep",
    "sweep_reuse",
    "MECHANISMS",
    "SY2018_REVISIT_CDF",
    "MAX_SWEEP_VISITS",
    "replay_case",
    "replay_experiment",
    "replay_sweep",
    "REAL_CLOCK_WINDOWS",
    # auditing a real server (gnutls-lab audit)
    "AuditReport",
    "AuditConnection",
    "AuditedTicket",
    "ProbeRecord",
    "KnownSecret",
    "judge_replay",
    "tls13_ticket_psk",
    "identify_software",
    "Secret",
    # the spy's log
    "analyse_spy_log",
    "identity_id",
    "server_disagreements",
    "pair_with_server",
    # what libgnutls does, measured live (the notebooks' checks, docs/early-data.md, docs/spy.md); the tamper
    # lab's one resumption attempt
    "attempt_resumption",
    "client_lifetime_copy",
    "compat_mode_switch",
    "early_data_on_a_ticket_without_it",
    "early_data_with_a_larger_claimed_age",
    "expiry_on_each_clock",
    "partial_set_data",
    "psk_ke_resumption",
    "public_ticket_key_exposure",
    "server_expiry_rules",
    "stored_max_early_data_size",
    "ticket_timing",
    "tickets_without_psk_key_exchange_modes",
    "version_flip_in_set_data",
    # library versions with a known crash on a tamper-lab change
    "known_crash",
]
