"""``loom server``: the team server (layer 4).

One ASGI app (:func:`loom.server.app.create_app`) answers MLflow's REST API for
unmodified MLflow clients, the artifact proxy, and Loom's own API under
``/api/v1``. It keeps no state of its own: everything lives in the SQL store and
the artifact destination, so several processes or hosts behave as one server.
"""
