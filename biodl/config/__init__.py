"""Typed configuration: the schema, YAML composition and `--set` overrides. Imports no torch."""

from biodl.config.binding import bind, closest, convert
from biodl.config.loader import (bind_config, dump_yaml, find_pipeline, flatten, load_config,
                                 to_dict)
from biodl.config.schema import (Config, DataConfig, ModelConfig, OptimizerConfig,
                                 SchedulerConfig, TaskConfig, TrackingConfig, TrainerConfig)

__all__ = ["Config", "DataConfig", "ModelConfig", "OptimizerConfig", "SchedulerConfig",
           "TaskConfig", "TrackingConfig", "TrainerConfig", "bind", "bind_config", "closest",
           "convert", "dump_yaml", "find_pipeline", "flatten", "load_config", "to_dict"]
