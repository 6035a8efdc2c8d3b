"""assay's test plugin: a provider that answers from the prompt, a task, a metric."""
