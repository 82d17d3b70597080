"""Layer 3, sessions: the in-process lab on the real libgnutls.

``credentials`` (certificates, PSK, anon), ``transport`` (the in-memory pair and its wire tap, sockets),
``clock`` (the fake clock), ``session`` (client and server sessions, session data, pumping a handshake),
``preflight`` (what ``gnutls_session_set_data`` is never handed) and ``lab`` (``Lab``/``Connection``).
"""
