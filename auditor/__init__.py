"""page-auditor: audits district-sponsored club and team pages against Policy 4-303."""

__version__ = "0.1.0"
