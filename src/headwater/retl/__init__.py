"""Reverse ETL: models (SQL queries on a customer's database) sent by syncs to profiles,
events or a destination, diffed by primary key against state kept in Headwater's database.

What other packages may use: the management operations (the API and the CLI), their read
models, and the supervised ``reverse-etl`` task (the runtime).
"""

from headwater.retl.service import (
    SOURCE_NAME,
    create_model,
    create_sync,
    delete_model,
    delete_sync,
    get_model,
    get_run,
    get_sync,
    list_models,
    list_runs,
    list_syncs,
    preview,
    preview_model,
    run_now,
    update_model,
    update_sync,
)
from headwater.retl.state import forget_person
from headwater.retl.task import SyncTask
from headwater.retl.views import ModelPreviewView, ModelView, RunView, SyncView

__all__ = [
    "SOURCE_NAME",
    "ModelPreviewView",
    "ModelView",
    "RunView",
    "SyncTask",
    "SyncView",
    "create_model",
    "create_sync",
    "delete_model",
    "delete_sync",
    "forget_person",
    "get_model",
    "get_run",
    "get_sync",
    "list_models",
    "list_runs",
    "list_syncs",
    "preview",
    "preview_model",
    "run_now",
    "update_model",
    "update_sync",
]
