"""What a run writes: Parquet shards and the atomic swap of the output dir (``shards``),
the manifest (``manifest``), and the duplicate check's scratch index (``dedup``)."""
