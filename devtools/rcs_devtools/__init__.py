"""Dev tooling shared by tests/, bench/ and scripts/demo.py: the pulumi CLI helpers, the real
state servers, the fleet data, the engine fixtures, git repos and the fake gh. Installed editable
into the dev virtualenvs by `make venv`; never part of the rcs-testers wheel."""
