"""Training and evaluation: datasets, augmentation, the crop cache, heads, train, evaluate, metrics.

It builds on the scoring path (`pipeline.*`); the scoring path never imports it.
"""
