"""Build hook for the optional C parts: the in-memory pipe (gnutls_lab/binding/_memio.c) and the
session-data spy that `gnutls-lab spy` preloads into other programs (gnutls_lab/binding/_spy.c).

Everything else is in pyproject.toml. The extension needs only a C compiler and the Python headers
(no GnuTLS headers). If it cannot be built, for example on a Binder image without a compiler, the
install goes on and gnutls-lab runs the same pipe as Python callbacks: slower, identical in behaviour.
Each is its own extension, so one failing does not stop the other; without the spy, `gnutls-lab spy`
says so and the rest of the lab is unaffected.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that reports a failed compile instead of failing the install."""

    def run(self):
        try:
            super().run()
        except Exception as error:  # noqa: BLE001 - any toolchain problem: fall back to Python
            for ext in self.extensions:  # nothing was built
                self._skipped(error, ext.name)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:  # noqa: BLE001
            self._skipped(error, ext.name)

    @staticmethod
    def _skipped(error, name):
        what, without = WITHOUT[name]
        print(f"gnutls-lab: {what} was not built ({error}); {without}")


# What each optional extension is, and what the lab does without it.
WITHOUT = {
    "gnutls_lab.binding._memio": ("the C pipe", "the Python pipe will be used"),
    "gnutls_lab.binding._spy": ("the spy", "`gnutls-lab spy` will not be available"),
}


setup(
    ext_modules=[
        Extension("gnutls_lab.binding._memio", ["gnutls_lab/binding/_memio.c"], optional=True),
        # Not a Python module: a plain shared library loaded with LD_PRELOAD (only libc and libdl).
        Extension("gnutls_lab.binding._spy", ["gnutls_lab/binding/_spy.c"], libraries=["dl"], optional=True),
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
