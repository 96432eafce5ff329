"""The provider layer's own error, apart from the Kaleyra client's (:mod:`._kaleyra.errors`):
a leaf, so that the provider and the lookup it drives both import it without a cycle."""

from __future__ import annotations

__all__ = ["ProviderError"]


class ProviderError(RuntimeError):
    """An operation failed for a reason the message explains (no Kaleyra status involved)."""
