"""Work that runs on the clock, in the one ``station-portal scheduler`` process."""
