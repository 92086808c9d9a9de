"""Signals: each piece of evidence about a clip is a registered component with one contract
(`pipeline.signals.contract`), fused into one verdict (`pipeline.signals.fusion`).

Import the modules themselves: this package file stays empty so that the contract and the
fusion load without TensorFlow.
"""
