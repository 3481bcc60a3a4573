"""Running the pipeline over many items: batches and time limits, the local worker pool and its fork server, Dask,
resuming a cut-short run, durable writes."""
