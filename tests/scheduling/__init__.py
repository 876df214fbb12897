"""Scheduler, SMTP delivery, digests sending and urgent alerts (issue 6)."""
