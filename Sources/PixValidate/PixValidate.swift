// Placeholder: the validation stage lands with the crawl data path.
