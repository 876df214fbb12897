"""Policy 4-303 rules: one class per rule, gathered in :mod:`auditor.rules.catalog`."""
