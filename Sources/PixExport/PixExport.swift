// Placeholder: the export stage lands with its issue.
