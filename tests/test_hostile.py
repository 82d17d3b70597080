"""Hostile input to the binding: mutated and foreign session blobs, tickets from another key, lifetime 0.

Each family of inputs runs in its own Python subprocess (:func:`run_child`), so a segfault, an abort or
the SIGFPE of lifetime 0 shows up as a failed test that names the signal and the last case tried,
instead of killing pytest. Per case the child feeds the bytes to ``gnutls_session_set_data`` and,
when accepted, tries a resumption against the lab server that issued the real blob, and reports:
set_data accepted or refused (only ``GnuTLSError`` is allowed), and ``resumed``. The rule checked
here: no signal, no other exception, and never a resumption on garbage. Decoder fuzzing lives with the
decoder's tests; this file is about what libgnutls itself is handed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(300)

TLS_VERSIONS = ("1.3", "1.2")

CHILD = textwrap.dedent(r'''
    import json, os, random, signal, struct, sys
    from gnutls_lab import Lab, library_info
    from gnutls_lab.errors import BlobFormatError, GnuTLSError

    tls, family = sys.argv[1], sys.argv[2]
    rng = random.Random(f"{tls}-{family}")
    lab = Lab(tls)
    with lab.connect() as conn:
        blob = conn.session_data.data
    # Once here, before any fork: plain bytes go through set_data's checks, whose imports each
    # forked case would otherwise repeat.
    with lab.connect(resume=bytes(blob)) as conn:
        assert conn.resumed
    results = []

    def attempt(name, data, server=lab):
        """One case in a forked child, so a crash names its case and the run goes on."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            record = {"name": name, "accepted": True, "resumed": False, "error": None}
            try:
                with server.connect(resume=data) as conn:
                    record["resumed"] = conn.resumed
            except GnuTLSError as exc:
                record["error"] = exc.name
                record["accepted"] = exc.function != "gnutls_session_set_data"
            except BlobFormatError as exc:  # gnutls_lab's preflight: libgnutls would have crashed
                record["error"] = "refused before libgnutls"
                record["accepted"] = False
                record["refused_by"] = "preflight"
            except Exception as exc:  # reported to the parent, which fails the test
                record["unexpected"] = f"{type(exc).__name__}: {exc}"
            os.write(write_end, json.dumps(record).encode())
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            output = pipe.read()
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            record = {"name": name, "crash": signal.Signals(os.WTERMSIG(status)).name, "resumed": False,
                      "accepted": None, "error": None}
        else:
            record = json.loads(output)
        results.append(record)

    if family == "random":
        for size in list(range(0, 17)) + [rng.randrange(17, 4096) for _ in range(150)]:
            attempt(f"random {size} bytes", rng.randbytes(size))
        for size in (13, 64, 400, len(blob)):  # the real magic, then noise
            for _ in range(10):
                attempt(f"real magic + {size - 4} random bytes", blob[:4] + rng.randbytes(size - 4))
    elif family == "truncated":
        for size in range(len(blob)):
            attempt(f"first {size} of {len(blob)} bytes", blob[:size])
    elif family == "bitflips":
        for offset in range(len(blob)):
            bit = rng.randrange(8)
            attempt(f"offset {offset} bit {bit}", blob[:offset] + bytes([blob[offset] ^ (1 << bit)]) + blob[offset + 1:])
    elif family == "foreign":
        here = struct.unpack(">I", blob[:4])[0]
        for version in (0x030709, 0x030809, 0x030610, 0x030000):
            magic = (0xFADEBADD + version) & 0xFFFFFFFF
            if magic != here:
                attempt(f"magic of GnuTLS {version:06x}", struct.pack(">I", magic) + blob[4:])
        other_tls = "1.2" if tls == "1.3" else "1.3"
        with Lab(other_tls).connect() as conn:
            attempt(f"a TLS {other_tls} blob", conn.session_data.data)
        attempt("ticket from another key", blob, server=Lab(tls))
        if tls == "1.2":
            cached = Lab(tls, tickets=False, session_cache=True)
            with cached.connect() as conn:
                by_id = conn.session_data.data
            attempt("session ID unknown to another server", by_id, server=Lab(tls, tickets=False, session_cache=True))
            attempt("session ID, control", by_id, server=cached)
        attempt("real blob, control", blob)
    from gnutls_lab.analysis._decode import decode
    ranges = decode(blob).ranges
    print(json.dumps({"gnutls": library_info().version, "length": len(blob), "ranges": ranges, "results": results}))
''')


def run_child(*args: str) -> dict:
    """Run :data:`CHILD` with ``args``: its report, or a failure naming the signal if it died itself."""
    child = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=240)
    if child.returncode < 0:
        pytest.fail(f"the harness itself died of {signal.Signals(-child.returncode).name}: {child.stderr[-2000:]}")
    assert child.returncode == 0, child.stderr[-3000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    unexpected = [r for r in report["results"] if "unexpected" in r]
    assert not unexpected, unexpected[:5]
    return report


def assert_no_crash(report: dict) -> None:
    """Every case ran to its end: no signal killed the process that handed libgnutls the bytes."""
    crashes = [r for r in report["results"] if "crash" in r]
    if crashes:
        where = {}
        for record in crashes:
            offset = int(record["name"].split()[1]) if record["name"].startswith("offset") else None
            fields = [name for name, (start, end) in report["ranges"].items()
                      if offset is not None and start <= offset < end and "." in name]
            key = f"{record['crash']} {fields[-1] if fields else record['name']}"
            where[key] = where.get(key, 0) + 1
        pytest.fail(f"{len(crashes)} of {len(report['results'])} cases killed the process (GnuTLS "
                    f"{report['gnutls']}): " + "; ".join(f"{k} x{n}" for k, n in sorted(where.items())))


def critical_ranges(report: dict) -> list[tuple[int, int]]:
    """The bytes a resumption must depend on: the ticket and the secret (length prefixes included)."""
    wanted = ("tls13.ticket", "tls13.resumption_master_secret", "security_parameters.master_secret")
    return [tuple(span) for name, span in report["ranges"].items()
            if name in wanted or (name.startswith("extensions[") and name.endswith("].ticket"))]


_reports: dict = {}


def report_for(tls: str, family: str) -> dict:
    """One child run per (tls, family), shared by the crash test and the resumption tests."""
    if (tls, family) not in _reports:
        _reports[tls, family] = run_child(tls, family)
    return _reports[tls, family]


FAMILIES = ("random", "truncated", "bitflips", "foreign")


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_hostile_blobs_never_kill_the_process(tls, family):
    assert_no_crash(report_for(tls, family))


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_random_bytes_never_resume(tls):
    results = report_for(tls, "random")["results"]
    assert len(results) > 150
    assert not [r["name"] for r in results if r["resumed"]]
    # Without the real magic, set_data refuses outright (except the 4-byte dummy, which is not garbage).
    no_magic = [r for r in results if r["name"].startswith("random") and r["name"] != "random 4 bytes"]
    assert not [r["name"] for r in no_magic if r["accepted"]]


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_truncated_real_blobs_never_resume(tls):
    report = report_for(tls, "truncated")
    assert len(report["results"]) == report["length"]
    assert not [r["name"] for r in report["results"] if r["resumed"]]
    assert report["results"][0]["accepted"] is False  # zero bytes: refused by set_data


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_bit_flips_in_ticket_or_secret_never_resume(tls):
    report = report_for(tls, "bitflips")
    spans = critical_ranges(report)
    assert spans, report["ranges"]
    critical = {offset for start, end in spans for offset in range(start, end)}
    inside = [r for r in report["results"] if int(r["name"].split()[1]) in critical]
    assert len(inside) >= 200  # a ticket is 230+ bytes: every one of them was flipped once
    assert not [r["name"] for r in inside if r["resumed"]]
    # Flips elsewhere (timestamps, the stored certificate...) may still resume: libgnutls does not
    # check those bytes on the client, which is itself worth knowing.


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_foreign_blobs_and_other_keys(tls):
    results = {r["name"]: r for r in report_for(tls, "foreign")["results"]}
    magic_cases = [r for name, r in results.items() if name.startswith("magic of")]
    assert len(magic_cases) >= 3
    for record in magic_cases:  # another release's blob: _gnutls_session_unpack refuses it
        assert record["accepted"] is False and record["error"] == "GNUTLS_E_DB_ERROR", record
    other = "1.2" if tls == "1.3" else "1.3"
    assert not results[f"a TLS {other} blob"]["resumed"]
    assert not results["ticket from another key"]["resumed"]
    assert results["ticket from another key"]["accepted"]  # the client cannot tell; the server refuses
    assert results["real blob, control"]["resumed"]  # the harness can see a resumption
    if tls == "1.2":
        assert not results["session ID unknown to another server"]["resumed"]
        assert results["session ID, control"]["resumed"]


# --- lifetime 0: the SIGFPE that must never be reached ------------------------------------------

LIFETIME_CHILD = textwrap.dedent(r'''
    import sys
    from gnutls_lab import Lab
    from gnutls_lab.sessions import generate_ticket_key
    from gnutls_lab.sessions._credentials import CertificateCredentials, LabCertificate
    from gnutls_lab.errors import UsageError
    from gnutls_lab.sessions._session import ClientSession, ServerSession, pump
    from gnutls_lab.sessions._transport import memory_pair
    from gnutls_lab.network._server import LabServer

    lifetime = int(sys.argv[1])
    refused = []
    for tls in ("1.3", "1.2"):
        try:  # if this were not refused, the handshake below would reach stek.c's division by zero
            with Lab(tls, lifetime=lifetime).connect() as conn:
                pass
        except UsageError:
            refused.append("Lab")
        client_end, server_end = memory_pair()
        credentials = CertificateCredentials(LabCertificate())
        try:
            server = ServerSession(credentials, tls, endpoint=server_end, ticket_key=generate_ticket_key(),
                                   lifetime=lifetime)
        except UsageError:
            refused.append("ServerSession")
        else:
            with server, ClientSession(CertificateCredentials(), tls, endpoint=client_end) as client:
                pump(client, server)
        try:
            LabServer(0, tls, lifetime=lifetime).close()
        except UsageError:
            refused.append("LabServer")
    print(",".join(refused))
''')


@pytest.mark.parametrize("lifetime", [0, -1, -604800, 604801, 2**32])
def test_bad_lifetimes_are_refused_before_libgnutls(lifetime):
    child = subprocess.run([sys.executable, "-c", LIFETIME_CHILD, str(lifetime)], capture_output=True, text=True,
                           timeout=120)
    if child.returncode < 0:
        pytest.fail(f"lifetime {lifetime} reached libgnutls: the child died of {signal.Signals(-child.returncode).name}")
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["Lab,ServerSession,LabServer,Lab,ServerSession,LabServer"]


def test_lifetime_zero_really_is_fatal_in_raw_libgnutls():
    """Control: without the lab's check, expiration 0 with tickets kills a handshake with SIGFPE."""
    raw = textwrap.dedent(r'''
        from gnutls_lab.sessions import generate_ticket_key
        from gnutls_lab.binding._library import load
        from gnutls_lab.sessions._credentials import CertificateCredentials, LabCertificate
        from gnutls_lab.sessions._session import ClientSession, ServerSession, pump
        from gnutls_lab.sessions._transport import memory_pair

        client_end, server_end = memory_pair()
        server = ServerSession(CertificateCredentials(LabCertificate()), "1.3", endpoint=server_end,
                               ticket_key=generate_ticket_key())
        load()[1].gnutls_db_set_cache_expiration(server._ptr, 0)  # what the lab refuses to do
        client = ClientSession(CertificateCredentials(), "1.3", endpoint=client_end)
        pump(client, server)
        print("survived")
    ''')
    child = subprocess.run([sys.executable, "-c", raw], capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGFPE, (child.returncode, child.stdout, child.stderr[-500:])
