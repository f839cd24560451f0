"""The profile stage of the processor: identity resolution and profiles, over a log batch."""

from headwater.profiles.stage.orchestration import ProfileStage, profile_id

__all__ = ["ProfileStage", "profile_id"]
