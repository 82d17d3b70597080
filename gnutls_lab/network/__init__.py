"""Layer 5, network: TCP on 127.0.0.1.

``server`` (the lab server for real clients), ``client`` (the lab client against real servers) and
``peers`` (running gnutls-cli/gnutls-serv and openssl s_client/s_server as peers).
"""
