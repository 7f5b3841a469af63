"""Batch scoring: a file of ads scored in chunks, in order and lossless, on local worker processes or on Dask."""
