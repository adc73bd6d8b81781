"""Tiers (分层运营): tier chains, periodic review plans, applying moves through actions (issue 4)."""
