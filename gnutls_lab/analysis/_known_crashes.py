"""Library versions the lab may load that are known to crash on one of the tamper lab's changes.

The lab supports GnuTLS 3.7.0 and later and loads whatever the machine has (a distribution's, conda's),
so it can meet a release with a known crash that its own test versions (3.7.9, 3.8.9, 3.8.13) do not
have. The tamper lab runs the lab server in the notebook's process: a changed field that crashes
libgnutls would take the notebook with it. :func:`known_crash` says which changes to refuse, and why.

- **CVE-2026-1584** (GNUTLS-SA-2026-02-09-1, gnutls#1790): GnuTLS 3.8.11 added a retry of the TLS 1.3
  binder check with SHA-256 for PSK credentials without a binder algorithm
  (``lib/ext/pre_shared_key.c``, ``server_recv_params``: ``if (pskcred->binder_algo == NULL && ...)``)
  and reads ``pskcred`` there even on a server that has no PSK credentials, where it is NULL. Any
  resumption whose binder does not verify then crashes such a server; 3.8.12 added the NULL check
  (commit acf67a4a6). The tamper lab's "one bit of the resumption master secret" makes the client
  derive a wrong PSK, hence a wrong binder. Checked against the NEWS and the git history of
  3.8.9-3.8.13: the retry came with 3.8.11 (e73b6bac7, 33034a91c, a29aa9cda) and is absent before.
"""

from __future__ import annotations

__all__ = ["KNOWN_CRASHES", "known_crash"]

#: field -> ((first affected version, first fixed version, needs a server without PSK credentials), reason)
KNOWN_CRASHES = {
    "tls13.resumption_master_secret": (
        ((3, 8, 11), (3, 8, 12), True),
        "GnuTLS 3.8.11 crashes a server without PSK credentials when a TLS 1.3 binder does not verify "
        "(CVE-2026-1584, gnutls#1790, fixed in 3.8.12): a changed resumption master secret gives a wrong "
        "binder, and the lab server runs in this process",
    ),
}


def known_crash(field: str, version: tuple, *, psk_credentials: bool = False) -> str | None:
    """Why changing ``field`` must not be tried with libgnutls ``version`` (a tuple such as (3, 8, 11)),
    or None. ``psk_credentials``: the lab server has PSK credentials (``Lab(auth="psk")``)."""
    entry = KNOWN_CRASHES.get(field)
    if entry is None:
        return None
    (first, fixed, without_psk_only), reason = entry
    if not first <= tuple(version)[:3] < fixed or (without_psk_only and psk_credentials):
        return None
    return reason
