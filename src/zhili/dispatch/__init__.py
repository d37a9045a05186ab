"""Smart dispatch: the appeal classifier, place extraction, duplicates and repeat callers, hot issues."""
