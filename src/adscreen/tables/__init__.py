"""Tables: the file formats analysts bring (CSV, JSONL, Parquet, gzip), read lossless and in chunks, and written back."""
