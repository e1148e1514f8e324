"""Loom's own REST API as both ends see it (layer "—": imports only layer 0).

:mod:`loom.api.routes` is the table of ``/api/v1`` calls, one per method of the
tracking Backend; :mod:`loom.api.codec` turns entities into JSON and back;
:mod:`loom.api.errors` maps an error body's ``error_code`` back to its LoomError.
The server builds its FastAPI routes from the same table the http client calls.
"""
