"""Layer 3, sessions: the in-process lab on the real libgnutls.

``credentials`` (certificates, PSK, anon), ``transport`` (the in-memory pair and its wire tap, sockets),
``clock`` (the fake clock), ``session`` (client and server sessions, session data, pumping a handshake),
``preflight`` (what ``gnutls_session_set_data`` is never handed), ``lab`` (``Lab``/``Connection``),
``early_data`` (0-RTT and its anti-replay: ``ZeroRttLab``), ``pcapng`` (connections as a capture file
Wireshark decrypts) and ``files`` (reading and writing the user's files safely).
"""
