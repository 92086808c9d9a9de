"""Settings to result: face extraction, the scorer, aggregation rules and calibration.

Import the modules themselves (`pipeline.scoring.scorer`, ...): this package file stays empty
so that the aggregation rules and calibration load without TensorFlow.
"""
