"""Inference as plain functions of (nn.Module, input spec, tensors); the CLI is glue."""
