"""``rcs-testers doctor``: a read-only pre-flight of a stack against its configured Kaleyra pod.

``stack`` validates the stack's testers as ``pulumi preview`` does, ``checks`` probes the pod
(network, TLS, credentials, agents, the tester list and the lookup mode), ``report`` holds the
rows and the verdict, ``command`` is the command line."""

from .checks import diagnose
from .command import main
from .report import Check, Report

__all__ = ["Check", "Report", "diagnose", "main"]
