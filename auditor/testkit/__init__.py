"""Contract test suites that every connector and every rule runs (need the test extra)."""
