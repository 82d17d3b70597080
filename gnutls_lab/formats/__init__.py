"""Byte formats as ``construct`` schemas, declarations only.

- :mod:`.session_blob`: the packed session that ``gnutls_session_get_data2`` returns
  (``lib/session_pack.c``), GnuTLS 3.6.5 to 3.8.
- :mod:`.ticket`: the server ticket envelope and its decrypted inner state
  (``lib/ext/session_ticket.c``, ``lib/tls13/session_ticket.c``).
- :mod:`.gnutls_ids`: GnuTLS's numeric ids (protocols, MACs, groups, signature algorithms, extension
  ids) and the IANA names of cipher suites, shared by the schemas and the decoder.
- :mod:`.wire`: TLS records and the handshake messages a passive observer can read (RFC 8446,
  RFC 5246, RFC 5077), fields named as in Wireshark.

This package imports nothing else of gnutls_lab: the formats are the bottom of the byte layers.
"""
