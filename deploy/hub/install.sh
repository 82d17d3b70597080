#!/usr/bin/env bash
# Install what the workshop hub needs into PREFIX, once for all participants (`make hub` runs this as root):
#   PREFIX/venv    Debian's python3 with JupyterHub, the idle culler, nbgitpuller, JupyterLab and gnutls-lab
#                  (a regular install, not editable: participants never read the clone, which may be private)
#   PREFIX/proxy   configurable-http-proxy from npm (node from Debian's nodejs)
#   PREFIX/share   what a participant's server copies from: the numbered notebooks, course/, data/,
#                  scripts/workspace.py and participant-server (no .py twins, no solutions)
# Everything is readable by every account (0755/0644) and writable by root only.
#   deploy/hub/install.sh PREFIX
set -euo pipefail
prefix=${1:?usage: deploy/hub/install.sh PREFIX}
repo=$(cd "$(dirname "$0")/../.." && pwd)
python=${HUB_PYTHON:-/usr/bin/python3}
umask 022
mkdir -p "$prefix"
chmod 0755 "$prefix"

if [ ! -x "$prefix/venv/bin/python" ]; then
  "$python" -m venv "$prefix/venv"
  "$prefix/venv/bin/python" -m pip install -q --upgrade pip
fi
# The dependencies, then gnutls-lab itself rebuilt from the clone (its version number does not change
# between commits, so pip would otherwise keep the copy installed before).
"$prefix/venv/bin/python" -m pip install -q -r "$repo/deploy/hub/requirements.txt" "$repo[lab]"
"$prefix/venv/bin/python" -m pip install -q --force-reinstall --no-deps "$repo"

# No "receive Jupyter news?" toast in every participant's lab (JupyterLab's announcements plugin).
mkdir -p "$prefix/venv/etc/jupyter/labconfig"
echo '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}' \
  > "$prefix/venv/etc/jupyter/labconfig/page_config.json"

if [ ! -x "$prefix/proxy/node_modules/.bin/configurable-http-proxy" ]; then
  mkdir -p "$prefix/proxy"
  npm install --silent --no-audit --no-fund --prefix "$prefix/proxy" configurable-http-proxy@5 >/dev/null
fi

# share/ is replaced whole, so a notebook removed upstream is gone from it too.
fresh="$prefix/share.new"
rm -rf "$fresh"
mkdir -p "$fresh/notebooks" "$fresh/scripts"
cp "$repo"/notebooks/[0-9][0-9]-*.ipynb "$fresh/notebooks/"
cp -r "$repo/notebooks/course" "$fresh/notebooks/course"
cp -r "$repo/data" "$fresh/data"
cp "$repo/scripts/workspace.py" "$fresh/scripts/"
cp "$repo/deploy/hub/participant-server" "$fresh/"
find "$fresh" -name __pycache__ -prune -exec rm -rf {} +
chmod 0755 "$fresh/participant-server"
if [ -d "$prefix/share/notebooks/solutions" ]; then  # handed out already (hubctl.py solutions): stays so
  cp -r "$repo/notebooks/solutions" "$fresh/notebooks/solutions"
fi
chmod -R u=rwX,go=rX "$fresh"
rm -rf "$prefix/share.old"
if [ -d "$prefix/share" ]; then mv "$prefix/share" "$prefix/share.old"; fi
mv "$fresh" "$prefix/share"
rm -rf "$prefix/share.old"

# Every participant runs this environment: check that an unprivileged account can.
if ! runuser -u nobody -- "$prefix/venv/bin/python" -c 'import gnutls_lab, jupyterhub, nbgitpuller' 2>/dev/null; then
  echo "hub: $prefix/venv cannot be used by an unprivileged account (a folder on its way not readable by all?)" >&2
  exit 1
fi
echo "hub: installed in $prefix ($("$prefix/venv/bin/python" -c 'import jupyterhub; print("JupyterHub", jupyterhub.__version__)'))"
