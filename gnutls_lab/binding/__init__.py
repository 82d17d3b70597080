"""Layer 1, binding: libgnutls through cffi's ABI mode.

``cdef`` holds the C declarations, ``library`` finds, loads and version-checks libgnutls and turns
return codes into :class:`~gnutls_lab.errors.GnuTLSError`, ``callbacks`` holds the process's C
callbacks (transport, hooks, clock), ``native`` loads the optional C in-memory pipe (``_memio.c``),
``preload`` finds the optional spy library (``_spy.c``) that ``gnutls-lab spy`` preloads into programs.
Nothing above this layer touches a raw pointer.
"""
