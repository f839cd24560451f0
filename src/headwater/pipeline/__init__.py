"""The processor: the pipeline stages over the event log, and the failures it sets aside."""

from headwater.pipeline.failures import Failure
from headwater.pipeline.processor import Processor, Stage, StageFailed, list_failures

__all__ = ["Failure", "Processor", "Stage", "StageFailed", "list_failures"]
