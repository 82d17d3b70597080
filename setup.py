"""Build hook for the one optional C part: the in-memory pipe (gnutls_lab/binding/_memio.c).

Everything else is in pyproject.toml. The extension needs only a C compiler and the Python headers
(no GnuTLS headers). If it cannot be built, for example on a Binder image without a compiler, the
install goes on and gnutls-lab runs the same pipe as Python callbacks: slower, identical in behaviour.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that reports a failed compile instead of failing the install."""

    def run(self):
        try:
            super().run()
        except Exception as error:  # noqa: BLE001 - any toolchain problem: fall back to Python
            self._skipped(error)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:  # noqa: BLE001
            self._skipped(error)

    @staticmethod
    def _skipped(error):
        print(f"gnutls-lab: the C pipe was not built ({error}); the Python pipe will be used")


setup(
    ext_modules=[Extension("gnutls_lab.binding._memio", ["gnutls_lab/binding/_memio.c"], optional=True)],
    cmdclass={"build_ext": OptionalBuildExt},
)
