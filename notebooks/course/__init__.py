"""The workshop's exercise checks, kept beside the notebooks (not in the installed package).

Each check runs a participant's function against situations built live with the real libgnutls
through gnutls-lab's public API, and computes the expected answer there too: nothing is hard-coded.
``exercises`` serves notebooks 02 and 03, ``tracking`` notebooks 04 and 05.
"""
