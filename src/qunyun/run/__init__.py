"""The bot process (``qunyun run``): adapters → durable batched ingest → engine → outbox → adapters."""
