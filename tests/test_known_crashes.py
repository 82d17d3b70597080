"""The tamper lab's policy for library versions with a known crash (gnutls_lab/analysis/_known_crashes.py).

GnuTLS 3.8.11 (CVE-2026-1584) is not one of the versions the suite runs on, so the version is given; the
widget test (tests/test_widgets.py) checks that 3.7.9, 3.8.9 and 3.8.13 really try the change."""

from __future__ import annotations

from gnutls_lab import library_info
from gnutls_lab.analysis import known_crash
from gnutls_lab.analysis._known_crashes import KNOWN_CRASHES


def test_cve_2026_1584_refuses_a_changed_resumption_secret_on_3_8_11_only():
    field = "tls13.resumption_master_secret"
    reason = known_crash(field, (3, 8, 11))
    assert reason and "CVE-2026-1584" in reason and "fixed in 3.8.12" in reason
    for version in ((3, 7, 9), (3, 8, 9), (3, 8, 10), (3, 8, 12), (3, 8, 13)):
        assert known_crash(field, version) is None, version
    assert known_crash(field, (3, 8, 11), psk_credentials=True) is None  # pskcred is not NULL there
    assert known_crash("lifetime", (3, 8, 11)) is None
    assert set(KNOWN_CRASHES) == {field}


def test_the_running_library_has_no_known_crash():
    assert known_crash("tls13.resumption_master_secret", library_info().version_tuple) is None
