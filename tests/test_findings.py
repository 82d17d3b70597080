"""The findings in findings/ still hold against the installed libgnutls.

Each finding is a standalone C program (libgnutls only). These tests build it with gcc and
pkg-config and assert what it shows today. The day a GnuTLS release fixes one, its test fails
and says so: the docs (findings/) and the notebooks that cite the finding then need updating.

Imports nothing from gnutls_lab, so it runs in a bare rootfs (e.g. under gnutls-env).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

FINDINGS = Path(__file__).resolve().parent.parent / "findings"


def _build(name: str, outdir: Path) -> Path:
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "gnutls"], check=True, capture_output=True, text=True
    ).stdout
    exe = outdir / name
    subprocess.run(
        ["gcc", "-Wall", "-o", str(exe), str(FINDINGS / name / "repro.c"), *shlex.split(flags)],
        check=True,
        capture_output=True,
        text=True,
    )
    return exe


def _run(exe: Path) -> tuple[str, str]:
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{exe.name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    version = re.match(r"GnuTLS (\S+)", proc.stdout)
    assert version, proc.stdout
    return proc.stdout, version.group(1)


def _fixed(version: str, what: str, output: str) -> str:
    return (
        f"fixed in GnuTLS {version}: update findings/ and the notebooks "
        f"(findings/README.md, findings/*/README.md; {what})\n{output}"
    )


@pytest.fixture(scope="module")
def legacy_session_id(tmp_path_factory):
    return _run(_build("legacy-session-id", tmp_path_factory.mktemp("findings")))


@pytest.fixture(scope="module")
def set_data_crash(tmp_path_factory):
    return _run(_build("set-data-crash", tmp_path_factory.mktemp("findings")))


@pytest.fixture(scope="module")
def set_data_partial(tmp_path_factory):
    return _run(_build("set-data-partial", tmp_path_factory.mktemp("findings")))


@pytest.fixture(scope="module")
def anti_replay_rollover(tmp_path_factory):
    """The real-clock program; exit status 3 means the machine was too slow for its 1.5 s timeline
    (it prints the times): it is run again, at most three times in all."""
    exe = _build("anti-replay-rollover", tmp_path_factory.mktemp("findings"))
    for _ in range(3):
        proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
        if proc.returncode != 3:
            break
    assert proc.returncode == 0, f"anti-replay-rollover failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout, re.match(r"GnuTLS (\S+),", proc.stdout).group(1)


def test_legacy_session_id_reused_on_resumption(legacy_session_id):
    out, version = legacy_session_id
    verdict = re.search(r"^FINDING legacy_session_id_reused: (\S+)", out, re.M)
    assert verdict, out
    if verdict.group(1) == "no":
        pytest.fail(_fixed(version, "TLS 1.3 resumption now sends a fresh legacy_session_id", out))
    assert verdict.group(1) == "yes", out
    assert "CONTROL server_echoes_it: yes" in out, out
    # every compat-mode visit shows the same 32-byte value
    ids = set(re.findall(r"^compat visit \d: resumed=\d ClientHello\.legacy_session_id\(32\)=(\w+)", out, re.M))
    assert len(ids) == 1, out


def test_legacy_session_id_empty_without_compat_mode(legacy_session_id):
    out, _ = legacy_session_id
    assert "CONTROL compat_mode_disabled_session_id_len: 0" in out, out
    assert "CONTROL compat_mode_off_after_full_handshake_session_id_len: 0" in out, out


def test_turning_compat_mode_off_needs_fresh_session_data(legacy_session_id):
    """A client with %DISABLE_TLS13_COMPAT_MODE that resumes with session data from a compat-mode
    handshake sends that handshake's 32-byte ID on every resumption, and each new blob keeps it."""
    out, version = legacy_session_id
    verdict = re.search(r"^FINDING compat_mode_off_keeps_old_session_id: (\S+)", out, re.M)
    assert verdict, out
    if verdict.group(1) == "no":
        pytest.fail(_fixed(version, "compat mode off now empties the field of a resumption from old data", out))
    assert verdict.group(1) == "yes", out
    visits = re.findall(r"^switched visit \d: resumed=(\d) ClientHello\.legacy_session_id\((\d+)\)=(\w*)", out, re.M)
    assert [r for r, _, _ in visits] == ["0", "1", "1", "1"], out
    assert {(n, sid) for _, n, sid in visits} == {("32", visits[0][2])}, out


# case -> (how the child ends today, whether set_data had returned an error first)
CRASHES = {
    "tls12-ext-id-ffffffff": ("died in gnutls_session_set_data (SIGABRT)", False),
    "tls12-ext-id-bit31": ("died in gnutls_session_set_data (SIGABRT)", False),
    "tls12-ext-id-bit6": ("died in gnutls_session_set_data (SIGABRT)", False),
    "tls13-ncerts-bit1": ("died in gnutls_handshake (SIGSEGV)", True),
    "tls12-nocsp-bit2": ("died in gnutls_deinit (SIGSEGV)", True),
    "tls13-nocsp-bit2": ("died in gnutls_handshake (SIGSEGV)", True),
    # a TLS 1.3 blob whose protocol version says TLS 1.2 / SSL 3.0, on a ticket whose bytes give a
    # positive extension count when read as a TLS 1.2 blob
    "tls13-pversion-4": ("died in gnutls_session_set_data (SIGABRT)", False),
    "tls13-pversion-1": ("died in gnutls_session_set_data (SIGABRT)", False),
}


def _case(out: str, name: str) -> str:
    line = re.search(rf"^CASE {re.escape(name)}: (.*)$", out, re.M)
    assert line, f"no line for {name}:\n{out}"
    return line.group(1)


@pytest.mark.parametrize("control", ["control-tls12", "control-tls13"])
def test_unmodified_blob_resumes(set_data_crash, control):
    out, _ = set_data_crash
    assert _case(out, control) == "set_data=0(ok) handshake=0(ok),resumed end=exited normally", out


@pytest.mark.parametrize("name", sorted(CRASHES))
def test_corrupted_blob_kills_the_process(set_data_crash, name):
    out, version = set_data_crash
    expected_end, error_first = CRASHES[name]
    line = _case(out, name)
    if "end=died" not in line:
        pytest.fail(_fixed(version, f"{name}: {line}", out))
    assert line.endswith("end=" + expected_end), f"{name} now ends differently: {line}\n{out}"
    if error_first:
        assert re.match(r"set_data=-\d+\(GNUTLS_E_\w+\)", line), line
    else:
        assert line.startswith("set_data=- handshake=-"), line


def test_larger_certificate_count_in_a_tls12_blob_does_not_crash(set_data_crash):
    # Documented in findings/set-data-crash/README.md: 1 -> 3 certificates in the TLS 1.2 blob
    # makes set_data read the following bytes as two more certificates and fail later, with the
    # certificate list intact, so nothing dangles. If this starts crashing, the write-up is wrong.
    out, _ = set_data_crash
    line = _case(out, "tls12-ncerts-bit1")
    assert line.endswith("end=exited normally") and line.startswith("set_data=-"), line


def test_a_tls12_blob_that_says_tls13_is_refused_without_a_crash(set_data_crash):
    out, _ = set_data_crash
    line = _case(out, "tls12-pversion-5")
    # the error depends on the bytes read as a TLS 1.3 section: GNUTLS_E_PARSING_ERROR or GNUTLS_E_INTERNAL_ERROR
    assert re.match(r"set_data=-\d+\(GNUTLS_E_(PARSING|INTERNAL)_ERROR\)", line), line
    assert line.endswith("end=exited normally"), line


def _version_flips(out: str) -> dict:
    flips = {}
    for m in re.finditer(r"^VERSIONFLIP (tls1[23]) (\d+)->(\d+): (\d+) blobs: (\d+) died in set_data, (\d+) died "
                         r"later, (\d+) set_data errors, (\d+) accepted(?:; outcome predicted from the extension "
                         r"count for (\d+), right for (\d+))?$", out, re.M):
        flips[m.group(1), int(m.group(3))] = [int(g) if g is not None else None for g in m.groups()[3:]]
    return flips


def test_every_version_flip_of_a_tls13_blob_aborts_exactly_when_the_misread_count_is_positive(set_data_crash):
    """Each TLS 1.3 blob (a new ticket key each) with its version set to every other protocol GnuTLS
    knows: the program predicts from the bytes whether set_data aborts, and it does exactly then."""
    out, version = set_data_crash
    flips = _version_flips(out)
    tls13 = {v: f for (tls, v), f in flips.items() if tls == "tls13"}
    assert sorted(tls13) == [1, 2, 3, 4, 200, 201, 202], out
    for target, (tries, in_set_data, later, errors, accepted, predicted, right) in tls13.items():
        assert predicted == right == tries, f"5->{target}: the prediction failed\n{out}"
        assert later == 0 and errors == 0 and in_set_data + accepted == tries, out
    if sum(f[1] for f in tls13.values()) == 0:  # 56 blobs, each one chance in two
        pytest.fail(_fixed(version, "no TLS 1.3 blob with a changed protocol version aborts", out))


def test_no_version_flip_of_a_tls12_blob_crashes(set_data_crash):
    out, _ = set_data_crash
    tls12 = {v: f for (tls, v), f in _version_flips(out).items() if tls == "tls12"}
    assert sorted(tls12) == [1, 2, 3, 5, 200, 201, 202], out
    for target, (tries, in_set_data, later, errors, accepted, *_unused) in tls12.items():
        assert in_set_data == later == 0, f"4->{target} crashed\n{out}"
    assert tls12[5][3] == tls12[5][0], out  # 4 -> 5: set_data returns an error every time


def test_a_replayed_flight_is_delivered_again_after_the_anti_replay_period_rolls_over(anti_replay_rollover):
    out, version = anti_replay_rollover
    verdict = re.search(r"^FINDING anti_replay_rollover_accepts_replay: (\S+)", out, re.M)
    assert verdict, out
    if verdict.group(1) == "no":
        pytest.fail(_fixed(version, "a replay across a recording-period rollover is now refused", out))
    assert verdict.group(1) == "yes", out
    assert "CONTROL replay_in_same_period_refused: yes" in out, out
    assert "CONTROL replay_after_rollover_refused_later: yes" in out, out
    rolled = re.search(r"^replay after the period rolled over +at ([\d.]+) s: early data DELIVERED \(store asked: "
                       r"new key, key's period started at \+([\d.]+) s\)", out, re.M)
    assert rolled and abs(float(rolled.group(1)) - float(rolled.group(2))) < 0.05, out  # the replay began the period


PARTIAL = {
    "tls13-cut-4": "set_data=-302(GNUTLS_E_PARSING_ERROR) handshake=0(ok),resumed end=exited normally",
    "tls13-cut-8": "set_data=-302(GNUTLS_E_PARSING_ERROR) handshake=0(ok),full end=exited normally",
    "tls13-cut-17": "set_data=-302(GNUTLS_E_PARSING_ERROR) handshake=-59(GNUTLS_E_INTERNAL_ERROR) end=exited normally",
    "tls13-cut-40": "set_data=-302(GNUTLS_E_PARSING_ERROR) handshake=-59(GNUTLS_E_INTERNAL_ERROR) end=exited normally",
}


@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_a_failed_set_data_still_shapes_the_next_handshake(set_data_partial, name):
    out, version = set_data_partial
    line = _case(out, name)
    if not line.startswith(PARTIAL[name]):
        pytest.fail(_fixed(version, f"{name} now ends differently: {line}", out))


def test_set_data_partial_verdicts(set_data_partial):
    out, version = set_data_partial
    for finding in ("set_data_error_then_resumed", "set_data_error_then_internal_error"):
        verdict = re.search(rf"^FINDING {finding}: (\S+)", out, re.M)
        assert verdict and verdict.group(1) in ("yes", "no"), out
        if verdict.group(1) == "no":
            pytest.fail(_fixed(version, f"{finding} no longer happens", out))
    assert _case(out, "control-tls13") == "set_data=0(ok) handshake=0(ok),resumed end=exited normally"
    # the whole ranges: 1-4 resume, the 48-byte secret (17-65) fails with an internal error, the TLS 1.2
    # blob only ever errs and does a full handshake
    assert re.search(r"^RANGE tls13 cut 1-4 bytes .*handshake=0\(ok\),resumed", out, re.M), out
    assert re.search(r"^RANGE tls13 cut 17-65 bytes .*GNUTLS_E_INTERNAL_ERROR", out, re.M), out
    assert re.search(r"^RANGE tls12 cut 1-\d+ bytes .*set_data=-302\(GNUTLS_E_PARSING_ERROR\) handshake=0\(ok\),full "
                     r"end=exited normally$", out, re.M), out
