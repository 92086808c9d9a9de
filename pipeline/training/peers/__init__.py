"""Peer detectors, run side by side with ours in benchmarks only (never in the product)."""
