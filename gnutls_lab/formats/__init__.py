"""Byte formats as ``construct`` schemas: the one description of every layout, and what parses it.

``docs/formats.md`` explains the session blob, the ticket envelope and the ticket key periods.

- :mod:`.layout`: the fields the schemas are written in (bounded reads, byte ranges, errors that
  name the field path and offset).
- :mod:`.session_blob`: the packed session that ``gnutls_session_get_data2`` returns
  (``lib/session_pack.c``), GnuTLS 3.6.5 to 3.8.
- :mod:`.ticket`: the server ticket envelope and its decrypted inner state
  (``lib/ext/session_ticket.c``, ``lib/tls13/session_ticket.c``).
- :mod:`.gnutls_ids`: GnuTLS's numeric ids (protocols, MACs, groups, signature algorithms, extension
  ids) and the IANA names of cipher suites, shared by the schemas and the decoder.
- :mod:`.wire`: TLS records and the handshake messages a passive observer can read (RFC 8446,
  RFC 5246, RFC 5077), fields named as in Wireshark, and the observer's fast readers beside them.
- :mod:`.framing`: records and handshake messages cut from a byte stream (no construct needed).

This package imports only :mod:`gnutls_lab.errors`: the formats are the bottom of the byte layers,
and no module above them reads a byte layout by hand (``tests/test_layers.py``).
"""
