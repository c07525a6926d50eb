"""The token lifecycle: leases, the background scheduler, events, webhooks and metrics."""
