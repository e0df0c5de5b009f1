"""Typed configuration: the schema, YAML composition and `--set` overrides. Imports no torch."""

from biodl.config.binding import bind, closest, convert
from biodl.config.loader import (bind_config, config_from_yaml, dump_yaml, find_pipeline, flatten, load_config,
                                 to_dict)
from biodl.config.schema import (DATA_FORMATS, Config, DataConfig, FastaClassesData,
                                 FastaLabelsData, ModelConfig, OptimizerConfig, SchedulerConfig,
                                 SequenceData, TableData, TaskConfig, TrackingConfig,
                                 TrainerConfig)

__all__ = ["DATA_FORMATS", "Config", "DataConfig", "FastaClassesData", "FastaLabelsData",
           "SequenceData", "TableData", "ModelConfig", "OptimizerConfig", "SchedulerConfig",
           "TaskConfig", "TrackingConfig", "TrainerConfig", "bind", "bind_config", "config_from_yaml", "closest",
           "convert", "dump_yaml", "find_pipeline", "flatten", "load_config", "to_dict"]
