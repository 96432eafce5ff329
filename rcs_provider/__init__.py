"""rcs-testers: Kaleyra RCS agent testers as Pulumi resources."""

__version__ = "0.1.0"
