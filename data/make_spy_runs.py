"""Record real GnuTLS programs under the spy against the lab server, for notebooks/07 where they are missing.

    .venv/bin/python data/make_spy_runs.py        # from the repository root; needs gcc and the programs

Writes ``data/spy/runs-gnutls-<version>.json``: for each scenario of
:data:`gnutls_lab.network._spy.SCENARIOS` and each TLS version, the spy's report, the lab server's own record
of every connection, the command, the date and the program and library versions. Tickets appear only as
short hashes; no session data, secret or key is stored.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile

from gnutls_lab import library_info, spy_against_lab
from gnutls_lab.sessions import write_file
from gnutls_lab.network import build_curl_client, program_version, SCENARIOS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    folder = tempfile.mkdtemp(prefix="spy-runs-")
    curl_resume = build_curl_client(folder)
    runs = []
    try:
        for name, (command, connections, programs) in SCENARIOS.items():
            for tls in ("1.3", "1.2"):
                run = spy_against_lab(command, tls, connections, curl_resume=curl_resume)
                run["report"]["program"] = [part.replace(curl_resume, "curl_resume") for part in
                                            run["report"]["program"]]
                run.update(scenario=name, programs={p: program_version(p) for p in programs})
                runs.append(run)
                print(f"{name} TLS {tls}: {run['report']['summary']}", file=sys.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    version = library_info().version
    out = os.path.join(ROOT, "data", "spy", f"runs-gnutls-{version}.json")
    provenance = {"recorded_with": "data/make_spy_runs.py", "gnutls_version": version,
                  "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
    write_file(out, (json.dumps({"provenance": provenance, "runs": runs}, indent=1) + "\n").encode())
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
