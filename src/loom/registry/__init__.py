"""The model registry: model packages, flavors, signatures, and loading by URI.

Sits above tracking (a package is stored as run artifacts). Nothing here
imports a machine learning library at import time: a flavor's library loads
when a model of that flavor is saved or loaded.
"""
