"""Layer 6, faces: what people look at.

``views`` (text, hex and HTML reports of a decoded session), ``plots`` (matplotlib figures of
experiments), ``widgets`` (ipywidgets for the notebooks) and ``cli`` (the ``gnutls-lab`` command).
"""
