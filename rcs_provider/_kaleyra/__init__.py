"""The HTTP client for Kaleyra's RCS tester API: settings, transport, parsing, errors.

It knows nothing of Pulumi: hints name settings by their ``kaleyra:`` keys only. Import from
the submodules (:mod:`.client`, :mod:`.settings`, :mod:`.errors`, :mod:`.parsing`); this package
imports nothing, so reading settings or errors does not load ``requests``.
"""
