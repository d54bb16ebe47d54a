"""Analytics: aggregates, snapshots and forecasts for the dashboards."""
