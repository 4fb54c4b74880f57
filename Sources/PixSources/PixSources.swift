// The crawl sources stage: Openverse, Wikimedia Commons, URL lists and the offline demo.
