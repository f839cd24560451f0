"""File imports: CSV, JSON Lines and Parquet files of profiles, events or accounts, mapped to
Segment messages and committed through the tracking API's path, in resumable jobs."""

from headwater.imports.erasure import ERASED_UPLOAD, FORGOTTEN, forget_person
from headwater.imports.mapping import KINDS, ImportKind, Mapping, RowError, default_mapping
from headwater.imports.multipart import FilePart, boundary_of, file_part
from headwater.imports.reader import FORMATS, FileFormat, format_of
from headwater.imports.service import Importer
from headwater.imports.views import DryRunView, ImportStatus, ImportView, MappingView, RowErrorView

__all__ = [
    "ERASED_UPLOAD",
    "FORGOTTEN",
    "FORMATS",
    "KINDS",
    "DryRunView",
    "FileFormat",
    "FilePart",
    "ImportKind",
    "ImportStatus",
    "ImportView",
    "Importer",
    "Mapping",
    "MappingView",
    "RowError",
    "RowErrorView",
    "boundary_of",
    "default_mapping",
    "file_part",
    "forget_person",
    "format_of",
]
