"""The processor: the pipeline's stages run over batches of the event log, and the processing
failures set aside when a stage fails on one event alone."""

from headwater.pipeline.processor import CONSUMER, Processor, Stage, StageFailed, list_failures

__all__ = ["CONSUMER", "Processor", "Stage", "StageFailed", "list_failures"]
