"""Reports: the HTML run report, JSON/CSV exports and supervisor digests."""
