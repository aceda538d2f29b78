"""Fees and payment: FEBRABAN bank-slip codes, PIX BR Code, overdue charges, slip PDF."""
