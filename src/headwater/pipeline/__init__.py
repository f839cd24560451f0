"""The processor: the pipeline's stages run over batches of the event log, and the processing
failures set aside when a stage fails on one event alone."""

from headwater.pipeline.processor import CONSUMER, Processor, Stage, StageFailed, list_failures
from headwater.pipeline.views import FailureView, ReplayedFailuresView

__all__ = [
    "CONSUMER",
    "FailureView",
    "Processor",
    "ReplayedFailuresView",
    "Stage",
    "StageFailed",
    "list_failures",
]
