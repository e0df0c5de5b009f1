"""`biodl init`: a commented pipeline.yaml for your own data. No torch: `biodl init` stays fast.

Three inputs: one FASTA per class, one table (CSV/TSV) with a sequence and a label column, or a
folder with one sub-folder of images per class. Each is read just enough to choose the values
(lengths, columns, classes, image size); the YAML composes biodl's shipped `configs/` parts
with the `biodl:` form, so the folder may live anywhere, and says in a comment why each value
was chosen and which class is the positive one.
"""

from biodl.init.files import plan_fasta, plan_images
from biodl.init.pipeline import Plan, target_file, write_pipeline
from biodl.init.table import plan_table

__all__ = ["Plan", "plan_fasta", "plan_images", "plan_table", "target_file", "write_pipeline"]
