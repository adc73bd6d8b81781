"""Platform adapters: translate platform traffic into Events and Actions into platform calls."""
