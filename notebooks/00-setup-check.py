# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Setup check

# %%
# Environment check: run this cell first. If it fails, its message says how to fix it.
import sys

try:
    import gnutls_lab
except ImportError as exc:
    raise RuntimeError(
        f"this kernel ({sys.executable}) cannot import gnutls_lab. From the repository root run `make lab` "
        "(it creates .venv, installs everything and opens JupyterLab), or `pip install -e .` in this "
        "kernel's environment.") from exc
print(gnutls_lab.library_info(), "| gnutls_lab", gnutls_lab.__version__, "| Python", sys.version.split()[0])

# %% [markdown]
# This notebook answers three questions before the workshop starts:
#
# 1. **Which libgnutls is this?** gnutls-lab binds the real library with cffi. It looks, in order, at
#    `$GNUTLS_LAB_LIBGNUTLS`, at `sys.prefix/lib/libgnutls.so.30` (conda, Binder), at the system's
#    `libgnutls.so.30` (Debian's `libgnutls30`) and at whatever `ctypes.util.find_library` finds.
# 2. **What works?** A real TLS 1.3 and TLS 1.2 handshake and resumption, run in this process.
# 3. **Do widgets and plots show?** If something does not, the table at the end says what to do.
#
# **What you will learn**: which GnuTLS your notebooks talk to, that the four ways to resume work
# with it here, and how the notebooks state what they check: one line per fact, `✓` when it holds
# (a false one stops the notebook with the fact that failed).

# %%
from gnutls_lab import MINIMUM_VERSION, FakeClock, Lab, library_info
from course.checks import check

info = library_info()
print("library :", info.path)
check(info.version_tuple >= tuple(int(p) for p in MINIMUM_VERSION.split(".")),
      f"GnuTLS {info.version} is new enough (gnutls-lab needs {MINIMUM_VERSION} or newer)")

# %% [markdown]
# The version is also written into every session blob this library produces: the first four bytes
# are `0xFADEBADD + GNUTLS_VERSION_NUMBER`. Notebook 02 reads them.
#
# ## What works
# Each line below is a live handshake pair in this process (client and server are both libgnutls,
# talking over an in-memory pipe). A ✓ means the library said so (`gnutls_session_is_resumed`);
# a ✗ stops here with what failed (the table at the end says what to do).

# %%
works = []

lab13 = Lab("1.3")
first = lab13.connect()
again = lab13.connect(resume=first.session_data)
works.append(("TLS 1.3 handshake", first.protocol == "TLS1.3", first.cipher_suite))
works.append(("TLS 1.3 resumption with a ticket (PSK)", again.resumed, again.explain()))

lab12 = Lab("1.2")
first12 = lab12.connect()
works.append(("TLS 1.2 resumption with a session ticket", lab12.connect(resume=first12.session_data).resumed, ""))

cache12 = Lab("1.2", tickets=False, session_cache=True)
works.append(("TLS 1.2 resumption with a session ID (server cache)",
              cache12.connect(resume=cache12.connect().session_data).resumed, ""))

with FakeClock() as clock:
    short = Lab("1.3", lifetime=60)
    data = short.connect().session_data
    clock.advance(120)
    works.append(("fake clock: a 60 s ticket is refused 120 s later", not short.connect(resume=data).resumed,
                  "the fake clock also moves the client's ticket age" if clock.drives_ticket_age
                  else "GnuTLS < 3.8.1: the fake clock does not move the client's ticket age"))

for what, ok, note in works:
    check(ok, f"{what}{' (' + note + ')' if note else ''}")

# %% [markdown]
# ## Widgets and plots
# Below you should see a **slider** and then a **small plot**. If the slider shows as text such as
# `IntSlider(value=3)`, the browser side of ipywidgets is missing (see the table below).

# %%
import ipywidgets
import matplotlib
import matplotlib.pyplot as plt

print("matplotlib", matplotlib.__version__)
check(int(ipywidgets.__version__.split(".")[0]) >= 8, f"ipywidgets {ipywidgets.__version__} (8 or newer)")
ipywidgets.IntSlider(value=3, min=0, max=5, description="works?")

# %%
from matplotlib.ticker import MaxNLocator

full_names, resumed_names = [m.name for m in first.transcript], [m.name for m in again.transcript]
figure, ax = plt.subplots(figsize=(5, 2.6), layout="constrained")  # constrained: the title clears the y label
ax.bar(["full handshake", "resumed"], [len(full_names), len(resumed_names)], color=["#D55E00", "#0072B2"])
ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # messages are whole: no tick at 2.5
ax.set_ylabel("messages")
ax.set_title(f"A resumed TLS 1.3 handshake skips the certificate:\n{len(resumed_names)} messages instead of "
             f"{len(full_names)}", fontsize=10)
check(len(resumed_names) < len(full_names),
      f"the resumed handshake has fewer messages: {len(resumed_names)} instead of {len(full_names)}")
check("CERTIFICATE" in full_names and "CERTIFICATE" not in resumed_names,
      "the full handshake carries the server's certificate, the resumed one does not")
check(all(float(tick).is_integer() for tick in ax.get_yticks()), "the plot's ticks are whole messages")

# %% [markdown]
# ## How to fix what does not work
#
# | symptom | cause | fix |
# |---|---|---|
# | `cannot import gnutls_lab` | the kernel is not the lab's environment | `make lab` from the repository root (it creates `.venv`, installs, opens JupyterLab); in JupyterLab pick the kernel of that environment |
# | `LibraryNotFoundError: no usable libgnutls` | no libgnutls 3.7+ found | Debian/Ubuntu: `sudo apt-get install libgnutls30`; conda: `conda install -c conda-forge gnutls`; or `export GNUTLS_LAB_LIBGNUTLS=/path/to/libgnutls.so.30` before starting JupyterLab |
# | `found GnuTLS 3.6.x ... needs >= 3.7.0` | an old system library | use conda's (`environment.yml` at the repository root) or point `GNUTLS_LAB_LIBGNUTLS` at a newer build |
# | slider shows as text | JupyterLab < 4 or ipywidgets < 8 in the *server's* environment | `make lab` (JupyterLab 4 + ipywidgets 8 in one environment); reload the page |
# | no plot | a non-inline matplotlib backend | run `%matplotlib inline` |
# | a ✗ in "What works" | a GnuTLS build without TLS 1.2/1.3 or tickets | report the library path and version printed above |

# %%
for conn in (first, again, first12):
    conn.close()

# %% [markdown]
# ## Recap
#
# * The notebooks use the libgnutls printed at the top; every fact they teach is measured with it,
#   live, and stated on one `✓` line.
# * If every line above has its `✓`, and the slider and the plot show, you are ready for 01.
