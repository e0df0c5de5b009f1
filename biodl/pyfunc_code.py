"""The MLflow model of a biodl run, as code (MLflow's models-from-code): MLflow runs this file
to build the model when it loads one, so loading a registered model runs biodl's own code and
no pickled object."""

import mlflow

from biodl.pyfunc import BiodlModel

mlflow.models.set_model(BiodlModel())
