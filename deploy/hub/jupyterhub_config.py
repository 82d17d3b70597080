# The workshop's JupyterHub on one machine: `make hub` runs it (as root) with the settings below taken from the
# environment; docs/workshop.md is the facilitator's guide, and the numbers here come from `make bench-hub`.
#
#   GNUTLS_LAB_HUB_PREFIX   where `make hub` installed everything (venv, proxy, share/): required
#   GNUTLS_LAB_HUB_STATE    the hub's database, cookie secret, codes and tokens (root only; default PREFIX/state)
#   GNUTLS_LAB_HUB_BIND     the address participants reach (default 127.0.0.1: this machine only)
#   GNUTLS_LAB_HUB_PORT     its port (default 8000)
#   GNUTLS_LAB_HUB_IDLE     seconds without activity before a participant's server is stopped (default 3600);
#                           their files stay in their home, the next visit starts a new server
#   GNUTLS_LAB_HUB_CODE     the workshop code (default: made once and kept in STATE/workshop-code)
#   GNUTLS_LAB_HUB_USERS    prefix of the participants' hub and system user names (default gl-)
#   GNUTLS_LAB_HUB_HOMES    where their homes are made (default /home)
#   GNUTLS_LAB_HUB_INTERNAL the hub's and the proxy's own API ports, "HUB,PROXY" (default 8081,8001; 127.0.0.1)
#   GNUTLS_LAB_HUB_SERVER_ARGS  extra options for every participant's server (space-separated)
#   GNUTLS_LAB_HUB_ACTIVITY how often (s) servers and the proxy report activity to the hub (default 300; the
#                           tests' short idle times need it shorter)
#
# Each participant is a system user with a private home; their server (LocalProcessSpawner) runs as that user,
# on 127.0.0.1, opening on ~/workspace, made by scripts/workspace.py from PREFIX/share (deploy/hub/participant-server).
# pylint: disable=undefined-variable  (`c` is JupyterHub's config object)
import os
import pathlib
import secrets
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workshop_auth import WorkshopAuthenticator  # noqa: E402

PREFIX = pathlib.Path(os.environ["GNUTLS_LAB_HUB_PREFIX"])
STATE = pathlib.Path(os.environ.get("GNUTLS_LAB_HUB_STATE") or PREFIX / "state")
VENV = PREFIX / "venv"
SHARE = PREFIX / "share"
IDLE = int(os.environ.get("GNUTLS_LAB_HUB_IDLE") or 3600)
USERS = os.environ.get("GNUTLS_LAB_HUB_USERS") or "gl-"
ACTIVITY = int(os.environ.get("GNUTLS_LAB_HUB_ACTIVITY") or 300)
HUB_API_PORT, PROXY_API_PORT = (int(p) for p in (os.environ.get("GNUTLS_LAB_HUB_INTERNAL") or "8081,8001").split(","))

STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
os.chmod(STATE, 0o700)


def _secret(name: str, make) -> str:
    """A value kept in STATE/name (0600), made on first use."""
    path = STATE / name
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(make() + "\n")
    return path.read_text().strip()


WORKSHOP_CODE = os.environ.get("GNUTLS_LAB_HUB_CODE") or _secret(
    "workshop-code", lambda: "tls-" + "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(6)))
ADMIN_PASSWORD = _secret("admin-password", lambda: secrets.token_urlsafe(18))
FACILITATOR_TOKEN = _secret("facilitator-token", lambda: secrets.token_hex(32))

print(f"gnutls-lab hub: workshop code {WORKSHOP_CODE}; the facilitator logs in as 'facilitator' with the password"
      f" in {STATE / 'admin-password'} (deploy/hub/hubctl.py code shows both)", file=sys.stderr, flush=True)

# --- The hub and its proxy -------------------------------------------------------------------------------
c.JupyterHub.ip = os.environ.get("GNUTLS_LAB_HUB_BIND") or "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("GNUTLS_LAB_HUB_PORT") or 8000)
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = HUB_API_PORT
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"
c.ConfigurableHTTPProxy.command = [str(PREFIX / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.data_files_path = str(VENV / "share" / "jupyterhub")

# --- Who logs in (deploy/hub/workshop_auth.py says why this scheme) -------------------------------------
c.JupyterHub.authenticator_class = WorkshopAuthenticator
c.WorkshopAuthenticator.workshop_code = WORKSHOP_CODE
c.WorkshopAuthenticator.admin_password = ADMIN_PASSWORD
c.WorkshopAuthenticator.user_prefix = USERS
c.WorkshopAuthenticator.password_file = str(STATE / "participants.json")
c.WorkshopAuthenticator.home_base = os.environ.get("GNUTLS_LAB_HUB_HOMES") or "/home"
c.WorkshopAuthenticator.create_system_users = True
c.WorkshopAuthenticator.allow_all = True
c.WorkshopAuthenticator.request_otp = True  # JupyterHub's third login field, labelled for what it is here
c.WorkshopAuthenticator.otp_prompt = "Workshop code (first login only):"
c.WorkshopAuthenticator.admin_users = {USERS + "facilitator"}

# --- Each participant's server -------------------------------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(SHARE / "participant-server")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.notebook_dir = "~/workspace"
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "VIRTUAL_ENV": str(VENV),
    "SHELL": "/bin/bash",
    "JUPYTERHUB_ACTIVITY_INTERVAL": str(ACTIVITY),
}
c.JupyterHub.last_activity_interval = ACTIVITY
c.Spawner.args = [
    # A terminal: a non-login bash (a login shell reads /etc/profile, which resets PATH), in ~/workspace.
    "--ServerApp.terminado_settings={'shell_command': ['/bin/bash']}",
    # Kernels whose tab was closed are stopped after 20 minutes: closing a tab does not stop its kernel, and
    # eight notebooks' kernels are most of a participant's memory (docs/workshop.md).
    "--MappingKernelManager.cull_idle_timeout=1200",
    "--MappingKernelManager.cull_interval=120",
    "--MappingKernelManager.cull_connected=False",
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    # Extra options (the browser test sets --LabApp.expose_app_in_browser=True to read JupyterLab's state).
    *(os.environ.get("GNUTLS_LAB_HUB_SERVER_ARGS") or "").split(),
]
# A server start costs about 4 CPU-seconds; 30 at once on 2 cores take a minute or more (make bench-hub).
c.Spawner.http_timeout = 180
c.Spawner.start_timeout = 300
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0

# --- Idle culling, and the facilitator's own API token (deploy/hub/hubctl.py) ----------------------------
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": "facilitator-tools", "services": ["facilitator"],
     "scopes": ["admin:users", "admin:servers", "list:users", "read:users", "read:servers", "tokens"]},
]
c.JupyterHub.services = [
    {"name": "idle-culler",
     "command": [str(VENV / "bin" / "python"), "-m", "jupyterhub_idle_culler", f"--timeout={IDLE}",
                 f"--cull-every={max(10, min(300, IDLE // 4))}"]},
    {"name": "facilitator", "api_token": FACILITATOR_TOKEN},
]
