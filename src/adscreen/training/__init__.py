"""Training: labelled corpora, their validation, fitting and calibrating the model, metrics, the report and
model card, comparing two models, and the analysts' corrections that feed the next training."""
