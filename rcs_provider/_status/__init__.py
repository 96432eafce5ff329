"""``rcs-testers status``: who has not accepted the tester invitation yet, and for how long.

Modules, each with one job: :mod:`.export` reads a ``pulumi stack export``, :mod:`.stacks`
finds the stacks and runs the export, :mod:`.durations` reads and writes durations and times,
:mod:`.model` decides each tester's verdict, :mod:`.render` lays the report out and
:mod:`.command` is the command line.
"""
