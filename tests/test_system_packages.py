"""scripts/system-packages.sh: what it would install, and that no Debian service may start while it does.

Run in dry-run mode (SYSTEM_PACKAGES_DRY_RUN=1) with a PATH that hides one program, so the logic that
picks packages and guards the install is exercised without installing anything.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "system-packages.sh"
POLICY = "/usr/sbin/policy-rc.d"


def run_without(tmp_path, hidden: set, profile: str = "test"):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = bin_dir / name
            if name not in hidden and not target.exists():
                target.symlink_to(os.path.join(folder, name))
    env = {"PATH": str(bin_dir), "SYSTEM_PACKAGES_DRY_RUN": "1", "HOME": str(tmp_path)}
    return subprocess.run(["/bin/bash", str(SCRIPT), profile], env=env, capture_output=True, text=True, timeout=60)


def test_a_missing_scanner_is_named_and_the_install_would_be_guarded(tmp_path):
    before = Path(POLICY).read_bytes() if os.path.exists(POLICY) else None
    result = run_without(tmp_path, {"testssl"})
    # what else is missing depends on the machine (a GnuTLS 3.8 root filesystem has no real servers)
    installing = re.search(r"system-packages: installing (.*)", result.stderr)
    assert installing and "testssl.sh" in installing.group(1).split(), result.stderr
    if os.geteuid() == 0:
        assert result.returncode == 0, result.stderr
        assert "dry run" in result.stderr and "policy-rc.d exiting 101" in result.stderr
        assert f"-o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends {installing.group(1)}" \
            in result.stderr
        assert "restore /usr/sbin/policy-rc.d" in result.stderr
    after = Path(POLICY).read_bytes() if os.path.exists(POLICY) else None
    assert before == after  # a dry run changes nothing


def test_the_real_servers_are_in_the_test_profile_only(tmp_path):
    text = SCRIPT.read_text()
    test_profile = text[text.index("  test)\n"):text.index("esac", text.index("  test)\n"))]
    for package in ("nginx", "apache2", "lighttpd", "lighttpd-mod-$tls_module", "haproxy", "caddy",
                    "exim4-daemon-heavy", "testssl.sh"):
        assert package in test_profile, package
    for tls_module in ("gnutls", "openssl", "mbedtls", "wolfssl"):
        assert tls_module in test_profile
    # the guard is in place around the one apt-get install and removed afterwards
    install = text.index('"${apt_get[@]}" install')
    assert text.index("block_services\n", text.index("export DEBIAN_FRONTEND")) < install
    assert text.index("restore_services\n", install) > install
    assert "trap restore_services EXIT" in text and "exit 101" in text
