// The coordinator: planning, chunk processing and workers.
