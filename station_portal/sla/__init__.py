"""The time-limit engine: working-day calendar, rule sets, stage clocks."""
