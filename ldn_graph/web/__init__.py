"""The web layer: Flask and granian adapting the serving layer to HTTP.

``app`` makes the application (``create_app``), ``front`` answers ``/sparql`` before Flask sees the
request, the blueprints (``sparql``, ``pages``, ``downloads``, ``wellknown``, ``metrics``) answer the
rest, and ``server`` runs it all under granian.
"""
