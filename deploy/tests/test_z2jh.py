"""Zero to JupyterHub (deploy/z2jh/values.yaml) checked offline: Kubernetes cannot run here, so what is checked
is what can be: the values parse, every key they set exists in the chart's documented schema, the image is
named and tagged as the chart wants, the login and the workspace hook work as written, and repo2docker makes a
Dockerfile from this repository's environment.yml and postBuild (`repo2docker --no-build`)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import yaml
from conftest import HUB

ROOT = HUB.parent.parent
VALUES = ROOT / "deploy" / "z2jh" / "values.yaml"
CHART_VERSION = "4.4.0"

# The keys of the chart's values.schema.yaml (jupyterhub chart 4.4.0, zero-to-jupyterhub-k8s) that a workshop
# sets, as leaf paths; "*" stands for any one key, and a path ending in "/" takes anything below it (the schema
# allows any properties there: hub.config's keys must start with a capital letter, as the schema's pattern says).
# Every other object of the schema has additionalProperties: false, so a key not listed is a key the chart refuses.
SCHEMA_KEYS = """
hub.config/ hub.extraConfig/ hub.extraFiles.*.mountPath hub.extraFiles.*.stringData hub.extraFiles.*.data
hub.extraFiles.*.binaryData hub.extraFiles.*.mode hub.concurrentSpawnLimit hub.db.pvc.storage
singleuser.image.name singleuser.image.tag singleuser.image.pullPolicy singleuser.image.pullSecrets
singleuser.lifecycleHooks.postStart/ singleuser.lifecycleHooks.preStop/ singleuser.defaultUrl singleuser.cmd
singleuser.memory.guarantee singleuser.memory.limit singleuser.cpu.guarantee singleuser.cpu.limit
singleuser.storage.capacity singleuser.storage.homeMountPath singleuser.startTimeout singleuser.extraEnv/
cull.enabled cull.users cull.adminUsers cull.timeout cull.every cull.concurrency cull.maxAge
prePuller.hook.enabled prePuller.continuous.enabled proxy.service.type
""".split()


def _leaves(node, path=()):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, (*path, str(key)))
    else:
        yield path, node


def _known(path: tuple) -> bool:
    for key in SCHEMA_KEYS:
        parts = key.rstrip("/").split(".")
        if key.endswith("/"):
            if len(path) > len(parts) and all(p in ("*", q) for p, q in zip(parts, path)):
                return True
        elif len(path) == len(parts) and all(p in ("*", q) for p, q in zip(parts, path)):
            return True
    return False


def test_every_key_exists_in_the_charts_schema():
    values = yaml.safe_load(VALUES.read_text())
    assert f"chart `jupyterhub` {CHART_VERSION}" in VALUES.read_text()
    unknown = [".".join(path) for path, _ in _leaves(values) if not _known(path)]
    assert not unknown, f"keys the jupyterhub chart {CHART_VERSION} does not have: {unknown}"
    assert all(re.fullmatch(r"[A-Z]\w*", key) for key in values["hub"]["config"])  # the schema's pattern


def test_the_image_is_named_and_tagged_and_the_budget_is_the_measured_one():
    values = yaml.safe_load(VALUES.read_text())
    image = values["singleuser"]["image"]
    assert isinstance(image, dict) and set(image) >= {"name", "tag"}, "singleuser.image takes name and tag"
    assert ":" not in image["name"] and image["tag"]
    memory = values["singleuser"]["memory"]

    def megabytes(quantity: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)([MG])", quantity).groups()
        return float(number) * (1024 if unit == "G" else 1)

    # make bench-hub: about 350 MB with 01 and 02's exercise; about 1 GB with every notebook's kernel running.
    assert 350 <= megabytes(memory["guarantee"]) < megabytes(memory["limit"]) and megabytes(memory["limit"]) >= 1024
    assert values["cull"]["enabled"] and values["cull"]["timeout"] >= 600


def test_the_workspace_hook_makes_the_workspace_by_the_same_rules(tmp_path):
    """The postStart command, with the image's /srv/gnutls-lab standing for this repository."""
    values = yaml.safe_load(VALUES.read_text())
    command = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[:2] == ["sh", "-c"]
    home = tmp_path / "home"
    home.mkdir()
    script = command[2].replace("/srv/gnutls-lab", str(ROOT)).replace("python ", f"{sys.executable} ")
    for _ in range(2):  # a second start changes nothing
        ran = subprocess.run(["sh", "-c", script], env=dict(os.environ, HOME=str(home)), capture_output=True,
                             text=True, timeout=120)
        assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    listed = sorted(p.name for p in (home / "workspace").iterdir() if not p.name.startswith("."))
    assert "01-live-handshake.ipynb" in listed and "course" in listed and not [n for n in listed if n.endswith(".py")]
    assert (home / "data").resolve() == ROOT / "data"
    assert values["singleuser"]["defaultUrl"] == "/lab/tree/workspace/01-live-handshake.ipynb"


def test_the_workshop_login_loads_from_the_values_and_claims_names(install, tmp_path):
    """hub.config as the chart hands it to JupyterHub, with workshop_auth.py where hub.extraFiles mounts it."""
    values = yaml.safe_load(VALUES.read_text())
    config = values["hub"]["config"]
    config["WorkshopCodeAuthenticator"].update(workshop_code="tls-k8s-test", password_file=str(tmp_path / "p.json"))
    probe = f"""
import asyncio, json, sys
sys.path.insert(0, {str(HUB)!r})
from traitlets.config import Config
from traitlets.utils.importstring import import_item
config = Config(json.loads({json.dumps(json.dumps(config))}))
cls = import_item(config.JupyterHub.authenticator_class)
auth = cls(config=config)
async def main():
    first = await auth.authenticate(None, {{"username": "Alice", "password": "alices-own", "otp": "tls-k8s-test"}})
    stolen = await auth.authenticate(None, {{"username": "alice", "password": "guess-it", "otp": "tls-k8s-test"}})
    again = await auth.authenticate(None, {{"username": "alice", "password": "alices-own", "otp": ""}})
    nocode = await auth.authenticate(None, {{"username": "bob", "password": "bobs-own", "otp": "wrong"}})
    print(json.dumps([first, stolen, again, nocode, sorted(auth.admin_users), cls.__mro__[1].__name__]))
asyncio.run(main())
"""
    ran = subprocess.run([str(install / "venv" / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    first, stolen, again, nocode, admins, base = json.loads(ran.stdout.strip().splitlines()[-1])
    assert first == again == {"name": "alice"} and stolen is None and nocode is None
    assert admins == ["facilitator"] and base == "_WorkshopLogin"


def test_repo2docker_builds_the_image_from_environment_yml_and_postbuild():
    """`repo2docker --no-build --debug` prints the Dockerfile it would build (no docker daemon needed)."""
    ran = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "--debug", "--no-run",
                          "--target-repo-dir", "/srv/gnutls-lab", "--image-name", "gnutls-lab:offline-check",
                          str(ROOT)], capture_output=True, text=True, timeout=600)
    text = ran.stdout + ran.stderr
    assert ran.returncode == 0, text[-3000:]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert f"Building conda environment for {python}" in text, "repo2docker's Python is not environment.yml's"
    assert "COPY --chown=0:0 src/environment.yml ${REPO_DIR}/environment.yml" in text
    assert re.search(r'env update -p \$\{NB_PYTHON_PREFIX\} --file "environment.yml"', text)
    assert "RUN ./postBuild" in text
    names = {re.split(r"[<>=\s]", d)[0] for d in environment["dependencies"] if isinstance(d, str)}
    assert {"nbgitpuller", "gnutls", "jupyterlab", "openssl"} <= names
    post_build = (ROOT / "postBuild").read_text()
    assert "scripts/workspace.py" in post_build and "rm -rf notebooks/solutions" in post_build
