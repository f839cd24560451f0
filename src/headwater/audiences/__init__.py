"""Audiences and computed traits: the condition language, evaluation in real time (a
pipeline stage after profiles) and in batch (SQL), the change log that feeds activation."""
