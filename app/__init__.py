"""PartnerMap: match K-12 schools with community partners and map where assets meet needs."""

__version__ = "0.1.0"
