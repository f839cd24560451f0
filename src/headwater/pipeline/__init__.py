"""The processor: the pipeline's stages run over batches of the event log, the processing
failures set aside when a stage fails on one event alone, and the backlog."""

from headwater.pipeline.failures import forget_failures
from headwater.pipeline.lag import backlog
from headwater.pipeline.processor import CONSUMER, Processor, Stage, StageFailed, list_failures
from headwater.pipeline.views import BacklogView, FailureView, ReplayedFailuresView

__all__ = [
    "CONSUMER",
    "BacklogView",
    "FailureView",
    "Processor",
    "ReplayedFailuresView",
    "Stage",
    "StageFailed",
    "backlog",
    "forget_failures",
    "list_failures",
]
