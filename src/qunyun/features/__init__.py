"""Capabilities (members, tiers, moderation, faq, broadcast, ...), each a plugin of its own."""
