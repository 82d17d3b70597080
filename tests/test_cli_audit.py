"""``gnutls-lab audit`` as a user runs it: a subprocess against real servers on 127.0.0.1, the JSON checked
against the schema published in docs/audit.md, errors as one line and exit status 2."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from audit_servers import start_server

pytestmark = pytest.mark.peers

DOCS = Path(__file__).resolve().parent.parent / "docs" / "audit.md"
TLS13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3"


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "gnutls_lab", "audit", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONWARNINGS="ignore"))


def published_schema() -> dict:
    section = DOCS.read_text().split("## The JSON document", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", section, re.S).group(1)
    schema = json.loads(block)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@pytest.fixture(scope="module")
def schema():
    return published_schema()


@pytest.mark.parametrize("kind,config,extra", [
    ("lab", {"options": {"ticket_key": bytes(64), "early_data": 2048, "anti_replay": "forget"}},
     ("--replay", "--sni", "a.example,b.example")),
    ("gnutls-serv", {"tls": "1.2", "args": ("--noticket",)}, ()),
    ("openssl", {"tls": "1.3", "args": ("-early_data",)}, ("--replay", "--tls", "1.3")),
    ("lab", {"tls": "NORMAL:-VERS-ALL:+VERS-TLS1.3", "options": {"starttls": "smtp"}}, ("--starttls", "smtp")),
], ids=["lab-weak-0rtt-two-names", "gnutls-serv-session-ids", "openssl-stateful-0rtt", "lab-smtp"])
def test_json_output_follows_the_published_schema(schema, kind, config, extra):
    with start_server(kind, config) as server:
        result = run(f"{server.host}:{server.port}", "--json", *extra)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, schema)
    assert doc["probes"] and all(p["seconds"] >= 0 for p in doc["probes"])
    replayed = (doc["findings"]["zero_rtt"]["replay"] or {}).get("attempted")
    greeted = doc["options"]["starttls"] == "smtp"  # the identify probe's plain SMTP connection (no TLS)
    assert sum(p["connections"] for p in doc["probes"]) == len(doc["connections"]) + (1 if replayed else 0) \
        + (1 if greeted else 0)
    identify = [p for p in doc["probes"] if p["name"] == "identify"]
    assert len(identify) == 1 and identify[0]["connections"] == 1, doc["probes"]
    software = doc["software"]
    if greeted:  # the lab server's greeting: "220 gnutls-lab ESMTP gnutls-lab (STARTTLS only)"
        assert software == {"protocol": "smtp", "said": "gnutls-lab ESMTP gnutls-lab (STARTTLS only)",
                            "product": None, "how": "SMTP greeting"}, software
    else:
        assert software["protocol"] == "http" and software["product"] is None, software
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_the_schema_catches_what_it_is_for(schema):
    with start_server("gnutls-serv", {"tls": "1.3"}) as server:
        doc = json.loads(run(f"{server.host}:{server.port}", "--json").stdout)
    jsonschema.validate(doc, schema)
    for broken in (dict(doc, schema=2), {k: v for k, v in doc.items() if k != "verdict"}, dict(doc, extra=1),
                   dict(doc, verdict=dict(doc["verdict"], risk="catastrophic"))):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_text_report_and_secrets_shown_only_when_asked():
    with start_server("lab", {"tls": TLS13, "options": {"ticket_key": bytes(64)}}) as server:
        address = f"{server.host}:{server.port}"
        text = run(address)
        shown = run(address, "--show-secrets", "--json")
    assert text.returncode == 0, text.stderr
    for heading in ("Verdict (risk: high)", "Evidence", "What to change", "Guessable keys", "Probes", "What was sent"):
        assert heading in text.stdout
    assert "redacted" in text.stdout and "00" * 64 not in text.stdout
    hit = json.loads(shown.stdout)["findings"]["weak_keys"][0]
    assert hit["key_bytes"] == "00" * 64 and hit["reveals"]["resumption_master_secret"] != "redacted"


def test_pcap_and_plot_files(tmp_path):
    pcap, plot = tmp_path / "audit.pcapng", tmp_path / "audit.png"
    with start_server("gnutls-serv", {"tls": "1.3"}) as server:
        result = run(f"{server.host}:{server.port}", "--pcap", str(pcap), "--plot", str(plot), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["options"]["pcap"]["connections"] == len([c for c in doc["connections"] if not c["error"]])
    assert stat.S_IMODE(pcap.stat().st_mode) == 0o600 and pcap.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args,message", [
    (("example.com:443",), "without --allow-remote"),
    (("192.0.2.7:443",), "not a loopback address"),
    (("127.0.0.1",), "is not HOST:PORT"),
    (("127.0.0.1:9",), "completed no TLS handshake"),
    (("127.0.0.1:9", "--max-wait", "-1"), "--max-wait"),
    (("127.0.0.1:9", "--max-wait", "soon"), "--max-wait"),
    (("127.0.0.1:9", "--tls", "1.1"), "--tls"),
    (("127.0.0.1:9", "--sni", ","), "--sni takes"),
    (("127.0.0.1:9", "--sni", "a b"), "not a DNS name"),
    (("127.0.0.1:9", "--tries", "0"), "tries must be"),
    (("127.0.0.1:9", "--starttls", "pop3"), "--starttls"),
    (("127.0.0.1:9", "--rate", "0"), "rate must be"),
    (("127.0.0.1:9", "--pcap", "/"), "it is a directory"),
])
def test_errors_are_one_line_and_exit_2(args, message):
    result = run(*args, timeout=60)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_progress_bar_when_asked():
    with start_server("gnutls-serv", {"tls": "1.3"}) as server:
        result = run(f"{server.host}:{server.port}", "--progress", "--json")
    assert result.returncode == 0
    assert "conn" in result.stderr  # tqdm's unit, on stderr only
    json.loads(result.stdout)
