"""Layer 4, analysis: what the bytes and the handshakes mean.

``decode`` (the session blob, decoded, redacted, tampered and rebuilt), ``ticket_keys`` (server tickets
decrypted with their key, key periods), ``observer`` (one connection as a passive observer sees it),
``linkage`` (which visits an observer links) and ``experiments`` (ticket reuse, lifetime and rotation,
measured on real handshakes).
"""
