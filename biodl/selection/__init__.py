"""Model selection: k-fold cross-validation (`cv`), Optuna search (`tune`, `space`,
`pruning`) and ensembles of trained models (`biodl.inference.ensemble`)."""
